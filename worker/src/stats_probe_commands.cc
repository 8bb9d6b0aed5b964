// `phasesweep stats similarity` and `phasesweep stats rank`: validate the CSV matrices, call the
// probe functions, print the value (text or JSON); the *File(s) forms check the measure flags as
// given on the command line and open the files (app/ wires them).
#include "phasesweep/worker/stats_probe_commands.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "phasesweep/base/json.h"
#include "phasesweep/worker/csv_matrix.h"
#include "phasesweep/worker/representation_metrics.h"

namespace phasesweep::worker {
namespace {

const char* SimilarityName(SimilarityMeasure m) {
  switch (m) {
    case SimilarityMeasure::kLinearCka:
      return "linear_cka";
    case SimilarityMeasure::kDebiasedCka:
      return "debiased_cka";
    case SimilarityMeasure::kCosine:
      return "cosine";
  }
  return "?";
}

const char* RankName(RankMeasure m) {
  switch (m) {
    case RankMeasure::kEffective:
      return "effective_rank";
    case RankMeasure::kStable:
      return "stable_rank";
    case RankMeasure::kParticipation:
      return "participation_ratio";
  }
  return "?";
}

// True when no column of x varies (the rule CKA and the participation ratio use).
bool HasNoVariance(const torch::Tensor& x) {
  const double raw = x.pow(2).sum().sqrt().item<double>();
  const double centred = (x - x.mean(0, true)).pow(2).sum().sqrt().item<double>();
  return centred <= 1e-12 * raw;
}

bool IsZero(const torch::Tensor& x) { return x.abs().max().item<double>() == 0; }

using Input = std::pair<const std::string*, const torch::Tensor*>;  // (name, matrix)

}  // namespace

Status RunSimilarity(const SimilarityRequest& request, std::istream& a_in, std::istream& b_in,
                     std::ostream& out) {
  Result<torch::Tensor> a = ParseCsvMatrix(a_in, request.a_name);
  if (!a.ok()) return a.status();
  Result<torch::Tensor> b = ParseCsvMatrix(b_in, request.b_name);
  if (!b.ok()) return b.status();
  const int64_t rows = a->size(0);
  const char* name = SimilarityName(request.measure);
  if (b->size(0) != rows) {
    return Status::InvalidArgument(
        request.a_name + " has " + std::to_string(rows) + " rows but " + request.b_name + " has " +
        std::to_string(b->size(0)) + ": " + name +
        " compares the same examples, one per row, so the row counts must match");
  }
  double value = 0;
  if (request.measure == SimilarityMeasure::kCosine) {
    if (a->sizes() != b->sizes()) {
      return Status::InvalidArgument(request.a_name + " has " + std::to_string(a->size(1)) +
                                     " columns but " + request.b_name + " has " +
                                     std::to_string(b->size(1)) +
                                     ": the cosine pairs the matrices element by element");
    }
    for (const auto& [file, matrix] : {Input{&request.a_name, &*a}, Input{&request.b_name, &*b}}) {
      if (IsZero(*matrix)) {
        return Status::InvalidArgument(*file +
                                       " is all zeros: its cosine with anything is undefined");
      }
    }
    value = Cosine(*a, *b);
  } else {
    const bool debiased = request.measure == SimilarityMeasure::kDebiasedCka;
    const int64_t min_rows = debiased ? 4 : 2;
    if (rows < min_rows) {
      return Status::InvalidArgument(
          std::string(name) + " needs at least " + std::to_string(min_rows) + " rows (examples); " +
          request.a_name + " and " + request.b_name + " have " + std::to_string(rows));
    }
    for (const auto& [file, matrix] : {Input{&request.a_name, &*a}, Input{&request.b_name, &*b}}) {
      if (HasNoVariance(*matrix)) {
        return Status::InvalidArgument(
            *file + " has no variance (every column is constant): " + name + " is undefined");
      }
    }
    value = Cka(*a, *b, debiased ? CkaEstimator::kDebiased : CkaEstimator::kLinear);
  }
  if (!std::isfinite(value)) {
    return Status::InvalidArgument(std::string(name) + " of " + request.a_name + " and " +
                                   request.b_name + " is undefined (got " +
                                   FormatDouble(value) + ")");
  }
  if (request.json) {
    out << "{\"measure\":\"" << name
        << "\",\"value\":" << FormatDouble(value)
        << ",\"a\":" << JsonQuote(request.a_name) << ",\"b\":" << JsonQuote(request.b_name)
        << ",\"rows\":" << rows << ",\"a_columns\":" << a->size(1)
        << ",\"b_columns\":" << b->size(1) << "}\n";
  } else {
    out << FormatDouble(value) << "\n";
  }
  return Status::Ok();
}

Status RunRank(const RankRequest& request, std::istream& a_in, std::ostream& out) {
  Result<torch::Tensor> a = ParseCsvMatrix(a_in, request.name);
  if (!a.ok()) return a.status();
  const char* name = RankName(request.measure);
  double value = 0;
  switch (request.measure) {
    case RankMeasure::kEffective:
    case RankMeasure::kStable:
      if (IsZero(*a)) {
        return Status::InvalidArgument(request.name + " is all zeros: " + name +
                                       " is undefined (no singular value is positive)");
      }
      value = request.measure == RankMeasure::kEffective ? EffectiveRank(*a) : StableRank(*a);
      break;
    case RankMeasure::kParticipation:
      if (a->size(0) < 2) {
        return Status::InvalidArgument(
            request.name +
            " has 1 row: the participation ratio needs at least 2 rows (examples) "
            "for a covariance");
      }
      if (HasNoVariance(*a)) {
        return Status::InvalidArgument(request.name +
                                       " has no variance (every column is constant): "
                                       "the participation ratio is undefined");
      }
      value = ParticipationRatio(*a);
      break;
  }
  if (!std::isfinite(value)) {
    return Status::InvalidArgument(std::string(name) + " of " + request.name +
                                   " is undefined (got " +
                                   FormatDouble(value) + ")");
  }
  if (request.json) {
    out << "{\"measure\":\"" << name
        << "\",\"value\":" << FormatDouble(value)
        << ",\"file\":" << JsonQuote(request.name) << ",\"rows\":" << a->size(0)
        << ",\"columns\":" << a->size(1) << "}\n";
  } else {
    out << FormatDouble(value) << "\n";
  }
  return Status::Ok();
}

namespace {

// Opens a command's input files, reporting the first that cannot be opened.
Status OpenInput(const std::string& path, std::ifstream* in) {
  in->open(path);
  if (!*in) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Status RunSimilarityFiles(const SimilarityFilesRequest& args, std::ostream& out) {
  SimilarityRequest request;
  const bool has_cka = !args.cka.empty();
  if (has_cka == args.cosine) {
    return Status::InvalidArgument(
        "similarity needs exactly one of --cka linear|debiased or --cosine");
  }
  if (has_cka) {
    const std::optional<CkaEstimator> estimator = CkaEstimatorFromName(args.cka);
    if (!estimator) {
      return Status::InvalidArgument("--cka '" + args.cka +
                                     "' is not valid; use linear or debiased");
    }
    request.measure = *estimator == CkaEstimator::kLinear ? SimilarityMeasure::kLinearCka
                                                          : SimilarityMeasure::kDebiasedCka;
  } else {
    request.measure = SimilarityMeasure::kCosine;
  }
  request.a_name = args.a;
  request.b_name = args.b;
  request.json = args.json;
  std::ifstream a;
  std::ifstream b;
  PHASESWEEP_RETURN_IF_ERROR(OpenInput(args.a, &a));
  PHASESWEEP_RETURN_IF_ERROR(OpenInput(args.b, &b));
  return RunSimilarity(request, a, b, out);
}

Status RunRankFile(const RankFileRequest& args, std::ostream& out) {
  const int chosen = int{args.effective} + int{args.stable} + int{args.participation};
  if (chosen != 1) {
    return Status::InvalidArgument(
        "rank needs exactly one of --effective, --stable or --participation");
  }
  RankRequest request;
  request.measure = args.effective ? RankMeasure::kEffective
                    : args.stable  ? RankMeasure::kStable
                                   : RankMeasure::kParticipation;
  request.name = args.a;
  request.json = args.json;
  std::ifstream a;
  PHASESWEEP_RETURN_IF_ERROR(OpenInput(args.a, &a));
  return RunRank(request, a, out);
}

}  // namespace phasesweep::worker
