// `phasesweep stats changepoints | test | adjust` (analysis/, on whitespace-separated numbers) and
// `stats similarity | rank` (worker/'s probe mathematics, on CSV matrices): options into requests,
// files or stdin into streams, errors to exit_status.h.
#include "phasesweep/analysis/stats_commands.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "library_commands.h"
#include "phasesweep/app/exit_status.h"
#include "phasesweep/worker/stats_probe_commands.h"

namespace phasesweep::app {
namespace {

// Runs `fn` on FILE (or `in` for "-"), reporting a failure as one line and an exit code.
template <class Request, class Fn>
void RunOnInput(Request request, const std::string& file, std::istream& in, std::ostream& err,
                Fn fn) {
  Status status;
  if (file.empty() || file == "-") {
    request.input_name = "<stdin>";
    status = fn(request, in);
  } else {
    request.input_name = file;
    std::ifstream f(file);
    status =
        f ? fn(request, f)
          : Status::NotFound("cannot open '" + file + "' (give a readable file or - for stdin)");
  }
  ExitOnError(status, err);
}

void AddAnalysisStatsCommands(CLI::App& stats, std::istream& in, std::ostream& out,
                              std::ostream& err) {
  // Shared state lives as long as the app: CLI11 keeps pointers to these.
  // Numeric options are taken as text and parsed here, so that a malformed value is a one-line
  // error with exit status 2 like every other input error of these commands.
  struct ChangepointsCli {
    analysis::ChangepointsRequest request;
    std::string file = "-", pen, n_bkps, min_size = "2", jump = "5";
  };
  auto cp = std::make_shared<ChangepointsCli>();
  CLI::App* c = stats.add_subcommand(
      "changepoints",
      "Change points of a series (ruptures semantics): sorted segment ends, last = n");
  c->add_option("--method", cp->request.method, "pelt | binseg")->capture_default_str();
  c->add_option("--cost", cp->request.cost, "l2 | normal | rbf")->capture_default_str();
  CLI::Option* pen =
      c->add_option("--pen", cp->pen, "penalty (default: from a robust noise estimate)")
          ->type_name("FLOAT");
  CLI::Option* nb =
      c->add_option("--n-bkps", cp->n_bkps, "number of breakpoints (binseg)")->type_name("INT");
  pen->excludes(nb);
  c->add_option("--min-size", cp->min_size, "minimum segment length")
      ->type_name("INT")
      ->capture_default_str();
  c->add_option("--jump", cp->jump, "breakpoint grid step")
      ->type_name("INT")
      ->capture_default_str();
  c->add_flag("--json", cp->request.json, "print one JSON object");
  c->add_option("FILE", cp->file, "numbers, whitespace-separated; - for stdin")
      ->capture_default_str();
  c->callback([cp, pen, nb, &in, &out, &err] {
    analysis::ChangepointsRequest r = cp->request;
    Status parsed = Status::Ok();
    auto integer = [&](const std::string& text, const char* flag, std::int64_t* v) {
      char* end = nullptr;
      const long long x = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') {
        if (parsed.ok()) {
          parsed =
              Status::InvalidArgument(std::string(flag) + ": '" + text + "' is not an integer");
        }
        return;
      }
      *v = x;
    };
    if (pen->count() > 0) {
      char* end = nullptr;
      const double v = std::strtod(cp->pen.c_str(), &end);
      if (cp->pen.empty() || *end != '\0' || !std::isfinite(v)) {
        parsed = Status::InvalidArgument("--pen: '" + cp->pen + "' is not a number");
      }
      r.penalty = v;
    }
    if (nb->count() > 0) {
      std::int64_t v = 0;
      integer(cp->n_bkps, "--n-bkps", &v);
      r.n_bkps = v;
    }
    integer(cp->min_size, "--min-size", &r.min_size);
    integer(cp->jump, "--jump", &r.jump);
    ExitOnError(parsed, err);
    RunOnInput(r, cp->file, in, err, [&](const analysis::ChangepointsRequest& q, std::istream& is) {
      return analysis::RunChangepoints(q, is, out);
    });
  });

  auto tq = std::make_shared<analysis::TestRequest>();
  auto t_file = std::make_shared<std::string>("-");
  CLI::App* t = stats.add_subcommand(
      "test", "A classical test (SciPy semantics); prints statistic=<v> pvalue=<v>");
  t->add_option("TEST", tq->test,
                "wilcoxon | sign | mannwhitney | kruskal | spearman | binom | permutation")
      ->required();
  t->add_option("FILE", *t_file, "one sample per line (binom: 'k n p0'); - for stdin")
      ->capture_default_str();
  t->add_option("--alternative", tq->alternative, "two-sided | greater | less")
      ->capture_default_str();
  t->add_option("--method", tq->method, "auto | exact | approx")->capture_default_str();
  t->add_flag("--json", tq->json, "print one JSON object");
  t->callback([tq, t_file, &in, &out, &err] {
    RunOnInput(*tq, *t_file, in, err, [&](const analysis::TestRequest& q, std::istream& is) {
      return analysis::RunTest(q, is, out);
    });
  });

  auto aq = std::make_shared<analysis::AdjustRequest>();
  auto a_file = std::make_shared<std::string>("-");
  CLI::App* a = stats.add_subcommand(
      "adjust", "Holm or Benjamini-Hochberg adjusted p-values, in input order");
  a->add_option("METHOD", aq->method, "holm | bh")->required();
  a->add_option("FILE", *a_file, "p-values, whitespace-separated; - for stdin")
      ->capture_default_str();
  a->add_flag("--json", aq->json, "print one JSON object");
  a->callback([aq, a_file, &in, &out, &err] {
    RunOnInput(*aq, *a_file, in, err, [&](const analysis::AdjustRequest& q, std::istream& is) {
      return analysis::RunAdjust(q, is, out);
    });
  });
}

void AddProbeStatsCommands(CLI::App& stats, std::ostream& out, std::ostream& err) {
  auto similarity_args = std::make_shared<worker::SimilarityFilesRequest>();
  CLI::App* similarity = stats.add_subcommand(
      "similarity", "CKA or cosine similarity of two CSV matrices (rows = the same examples)");
  similarity->add_option("--cka", similarity_args->cka,
                         "linear (Kornblith et al. 2019) or debiased (unbiased HSIC) CKA");
  similarity->add_flag("--cosine", similarity_args->cosine,
                       "cosine of the flattened matrices (equal shapes)");
  similarity->add_option("A", similarity_args->a, "CSV matrix A (rows = examples)")->required();
  similarity->add_option("B", similarity_args->b, "CSV matrix B (rows = examples)")->required();
  similarity->add_flag("--json", similarity_args->json, "print one JSON object");
  similarity->callback([similarity_args, &out, &err] {
    ExitOnError(worker::RunSimilarityFiles(*similarity_args, out), err);
  });

  auto rank_args = std::make_shared<worker::RankFileRequest>();
  CLI::App* rank =
      stats.add_subcommand("rank",
                           "effective rank, stable rank or participation ratio of a CSV "
                           "matrix (rows = examples)");
  rank->add_flag("--effective", rank_args->effective,
                 "Roy-Vetterli effective rank: exp(entropy of s / sum s)");
  rank->add_flag("--stable", rank_args->stable, "stable rank: sum s^2 / s_1^2");
  rank->add_flag("--participation", rank_args->participation,
                 "participation ratio of the column covariance: (sum l)^2 / sum l^2");
  rank->add_option("A", rank_args->a, "CSV matrix (rows = examples)")->required();
  rank->add_flag("--json", rank_args->json, "print one JSON object");
  rank->callback(
      [rank_args, &out, &err] { ExitOnError(worker::RunRankFile(*rank_args, out), err); });
}

}  // namespace

void AddStatsCommands(CLI::App& stats, std::istream& in, std::ostream& out, std::ostream& err) {
  AddAnalysisStatsCommands(stats, in, out, err);  // changepoints, test, adjust
  AddProbeStatsCommands(stats, out, err);         // similarity, rank
}

}  // namespace phasesweep::app
