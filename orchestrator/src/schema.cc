// The schema table and scalar conversion. Adding a key means adding one row here, a line in
// docs/CONFIG.md (a test checks both agree) and, if the worker reads it, a field in
// worker/spec.h filled in plan.cc.
#include "phasesweep/orchestrator/schema.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>

#include "phasesweep/base/json.h"

namespace phasesweep::orchestrator {
namespace {

using R = KeyRole;
using T = ValueType;

KeySpec Key(std::string key, T type, std::string def, R role, std::string doc) {
  KeySpec k;
  k.key = std::move(key);
  k.type = type;
  k.default_yaml = std::move(def);
  k.role = role;
  k.doc = std::move(doc);
  return k;
}
KeySpec Choice(std::string key, std::string def, R role, std::vector<std::string> choices,
               std::string doc) {
  KeySpec k = Key(std::move(key), T::kString, std::move(def), role, std::move(doc));
  k.choices = std::move(choices);
  return k;
}
KeySpec Ranged(KeySpec k, std::optional<double> min, std::optional<double> max,
               bool min_exclusive = false) {
  k.min = min;
  k.max = max;
  k.min_exclusive = min_exclusive;
  return k;
}
KeySpec Fixed(KeySpec k) {
  k.sweepable = false;
  return k;
}

std::vector<KeySpec> BuildSchema() {
  std::vector<std::string> probe_names;
  for (const auto& p : ProbeCatalog()) probe_names.push_back(p.name);
  KeySpec metrics =
      Key("probes.metrics", T::kStringList,
          "[train_loss, test_loss, train_acc, test_acc, emb_norm, emb_cos_prev]", R::kStructural,
          "probes computed at every probe step (see docs/METRICS.md)");
  metrics.choices = probe_names;

  std::vector<KeySpec> keys = {
      Fixed(Key("name", T::kString, "phasesweep", R::kRuntime,
                "name of the study, shown in reports")),
      // task
      Choice("task.name", "modular_arithmetic", R::kStructural,
             {"modular_arithmetic", "sparse_parity", "in_context_copy"}, "synthetic task"),
      Ranged(Key("task.p", T::kInt, "59", R::kStructural,
                 "modular_arithmetic: modulus p (tokens 0..p-1, '=' is token p)"),
             2, 1000),
      Choice("task.op", "add", R::kStructural, {"add", "sub", "mul", "div"},
             "modular_arithmetic: the operation (div needs a prime p)"),
      Ranged(Key("task.train_fraction", T::kDouble, "0.3", R::kStructural,
                 "modular_arithmetic: fraction of all pairs used for training"),
             0, 1, /*min_exclusive=*/true),
      Ranged(Key("task.n_bits", T::kInt, "30", R::kStructural, "sparse_parity: input bits n"), 1,
             4096),
      Ranged(Key("task.k", T::kInt, "3", R::kStructural,
                 "sparse_parity: bits in the parity (k <= n_bits)"),
             1, 4096),
      Ranged(Key("task.n_train", T::kInt, "1000", R::kStructural,
                 "sparse_parity, in_context_copy: training examples"),
             1, 1e8),
      Ranged(Key("task.n_test", T::kInt, "1000", R::kStructural,
                 "sparse_parity, in_context_copy: test examples"),
             1, 1e8),
      Ranged(Key("task.vocab", T::kInt, "16", R::kStructural, "in_context_copy: token vocabulary"),
             2, 100000),
      Ranged(Key("task.seq_len", T::kInt, "12", R::kStructural, "in_context_copy: sequence length"),
             3, 4096),
      Key("task.random_labels", T::kBool, "false", R::kStructural,
          "control: training labels permuted by the seed, so no real structure can be learned"),
      // model
      Choice("model.name", "transformer", R::kStructural, {"transformer", "mlp"}, "model family"),
      Ranged(Key("model.layers", T::kInt, "1", R::kStructural, "transformer: blocks"), 1, 64),
      Ranged(Key("model.d_model", T::kInt, "128", R::kStructural, "transformer: residual width"), 1,
             16384),
      Ranged(Key("model.heads", T::kInt, "4", R::kStructural,
                 "transformer: attention heads (must divide d_model)"),
             1, 1024),
      Ranged(Key("model.d_mlp", T::kInt, "512", R::kStructural, "transformer: MLP hidden width"), 1,
             65536),
      Choice("model.activation", "relu", R::kStructural, {"relu", "gelu"}, "MLP nonlinearity"),
      Key("model.layer_norm", T::kBool, "false", R::kStructural,
          "transformer: pre-LayerNorm on/off"),
      Key("model.learned_positions", T::kBool, "true", R::kStructural,
          "transformer: learned position embedding"),
      Key("model.tied_unembed", T::kBool, "false", R::kStructural,
          "transformer: unembedding tied to the token embedding"),
      Ranged(Key("model.depth", T::kInt, "2", R::kStructural, "mlp: hidden layers"), 1, 64),
      Ranged(Key("model.width", T::kInt, "256", R::kStructural, "mlp: hidden width"), 1, 65536),
      // optimizer
      Choice("optimizer.name", "adamw", R::kStructural, {"adamw", "sgd"}, "optimizer"),
      Ranged(Key("optimizer.lr", T::kDouble, "0.001", R::kMemberScalar, "peak learning rate"), 0,
             10, true),
      Ranged(Key("optimizer.weight_decay", T::kDouble, "1.0", R::kMemberScalar,
                 "decoupled weight decay (AdamW) / L2 decay (SGD)"),
             0, 1e6),
      Ranged(Key("optimizer.beta1", T::kDouble, "0.9", R::kMemberScalar, "AdamW beta1"), 0,
             0.999999),
      Ranged(Key("optimizer.beta2", T::kDouble, "0.98", R::kMemberScalar, "AdamW beta2"), 0,
             0.999999),
      Ranged(Key("optimizer.momentum", T::kDouble, "0.9", R::kMemberScalar, "SGD momentum"), 0,
             0.999999),
      Ranged(Key("optimizer.grad_clip", T::kDouble, "0", R::kMemberScalar,
                 "clip each member's gradient to this global L2 norm; 0 = off"),
             0, 1e12),
      Ranged(Key("optimizer.eps", T::kDouble, "1e-8", R::kStructural, "AdamW epsilon"), 0, 1, true),
      Choice("optimizer.schedule", "constant", R::kStructural, {"constant", "cosine"},
             "learning-rate schedule after warmup (cosine decays to 0 at the last step)"),
      Ranged(Key("optimizer.warmup_steps", T::kInt, "0", R::kStructural,
                 "linear warmup steps from 0 to lr"),
             0, 1e9),
      // training
      Ranged(Key("training.steps", T::kInt, "3000", R::kStructural, "optimizer steps per job"), 1,
             1e9),
      Ranged(Key("training.batch_size", T::kInt, "0", R::kStructural,
                 "minibatch size; 0 = full batch"),
             0, 1e9),
      Ranged(Key("training.pack", T::kIntOrAuto, "auto", R::kRuntime,
                 "members per pack (ensemble size K); auto = from a memory estimate, spread over "
                 "ranks"),
             1, 4096),
      Fixed(Choice("training.device", "auto", R::kRuntime, {"auto", "cpu", "cuda"},
                   "auto = CUDA when present, else CPU")),
      Fixed(Ranged(Key("training.threads", T::kInt, "0", R::kRuntime,
                       "intra-op threads per rank; 0 = cores / local ranks"),
                   0, 1024)),
      Ranged(Key("training.checkpoint_every", T::kInt, "500", R::kRuntime,
                 "steps between checkpoints; 0 = only on SIGTERM/SIGUSR1"),
             0, 1e9),
      Ranged(Key("training.retries", T::kInt, "1", R::kRuntime,
                 "times a pack that threw an error is retried before its jobs are failed"),
             0, 100),
      Fixed(Ranged(Key("training.data_parallel", T::kInt, "1", R::kRuntime,
                       "ranks per group training one pack together (must divide the rank count)"),
                   1, 65536)),
      // probes
      metrics,
      Choice("probes.schedule", "linear", R::kStructural, {"linear", "log"},
             "probe steps: every N, or log-spaced (dense early); first and last step always"),
      Ranged(Key("probes.every", T::kInt, "50", R::kStructural,
                 "linear schedule: probe every N steps"),
             1, 1e9),
      Ranged(
          Key("probes.count", T::kInt, "100", R::kStructural, "log schedule: about N probe steps"),
          2, 1e6),
      Ranged(Key("probes.batch", T::kInt, "512", R::kStructural,
                 "examples in the fixed probe batch (<= the smaller of train and test set)"),
             1, 1e8),
      Choice("probes.cka", "linear", R::kStructural, {"linear", "debiased"}, "CKA estimator"),
      Choice("probes.representation", "resid_final", R::kStructural, {"resid_final"},
             "hidden representation read by cka/rank/clustering probes"),
      Ranged(Key("probes.snapshot_every", T::kInt, "0", R::kStructural,
                 "store the embedding matrix every N steps; 0 = never"),
             0, 1e9),
      Ranged(Key("probes.sharpness_iters", T::kInt, "20", R::kStructural,
                 "sharpness: power-iteration steps"),
             1, 10000),
      Ranged(Key("probes.sharpness_tol", T::kDouble, "0.001", R::kStructural,
                 "sharpness: relative tolerance to stop early"),
             0, 1, true),
      // analysis (read by `phasesweep analyze`; not part of job identity)
      Fixed(Key("analysis.metrics", T::kStringList, "[]", R::kRuntime,
                "metrics to analyse; [] = every stored metric")),
      Fixed(Ranged(Key("analysis.alpha", T::kDouble, "0.05", R::kRuntime, "significance level"), 0,
                   1, true)),
      Fixed(Choice("analysis.adjust", "holm", R::kRuntime, {"holm", "bh"},
                   "multiple-testing adjustment over all p-values of one analysis")),
      Fixed(Ranged(Key("analysis.surrogates", T::kInt, "199", R::kRuntime,
                       "surrogate null traces per trace for significance"),
                   0, 1e6)),
      Fixed(Key("analysis.pairs", T::kStringList,
                "[emb_cos_prev<test_acc, emb_cos_prev<train_loss, cka_prev<test_acc]", R::kRuntime,
                "ordering hypotheses 'A<B': A's transition precedes B's")),
      Fixed(Choice("analysis.surrogate", "ar1", R::kRuntime, {"ar1", "block"},
                   "null model of the per-trace significance test")),
      Fixed(Ranged(Key("analysis.bootstrap", T::kInt, "2000", R::kRuntime,
                       "BCa bootstrap resamples per interval"),
                   0, 1e6)),
      Fixed(Ranged(
          Key("analysis.confidence", T::kDouble, "0.95", R::kRuntime, "level of every interval"), 0,
          1, true)),
      Fixed(Ranged(Key("analysis.seed", T::kInt, "0", R::kRuntime, "seed of all resampling"), 0,
                   1e18)),
      Fixed(Ranged(
          Key("analysis.threads", T::kInt, "0", R::kRuntime, "analysis threads; 0 = all cores"), 0,
          4096)),
      Fixed(Key("analysis.bands", T::kBool, "true", R::kRuntime, "store per-step summary bands")),
      Fixed(
          Choice("analysis.cost", "l2", R::kRuntime, {"l2", "normal", "rbf"}, "PELT segment cost")),
      Fixed(Key("analysis.penalty", T::kString, "default", R::kRuntime,
                "PELT penalty: a number, or default (robust BIC)")),
      Fixed(Ranged(Key("analysis.penalty_scale", T::kDouble, "1", R::kRuntime,
                       "multiplies the default penalty"),
                   0, 1e6, true)),
      Fixed(Ranged(Key("analysis.min_size", T::kInt, "2", R::kRuntime,
                       "PELT minimum segment length, probes"),
                   1, 1e6)),
      Fixed(Ranged(Key("analysis.jump", T::kInt, "1", R::kRuntime, "PELT breakpoint grid, probes"),
                   1, 1e6)),
      Fixed(Ranged(Key("analysis.smooth_sigma", T::kDouble, "1.5", R::kRuntime,
                       "smoothing for steepest/settle, probes"),
                   0, 1e6)),
      Fixed(Ranged(Key("analysis.settle_tolerance", T::kDouble, "0.05", R::kRuntime,
                       "plateau band, fraction of range"),
                   0, 1, true)),
      Fixed(Key("analysis.thresholds", T::kStringList, "[test_acc>=0.9:3, emb_cos_prev>=0.98:3]",
                R::kRuntime, "sustained crossings metric>=v:k or metric<=v:k")),
      Fixed(Choice("analysis.ordering_alternative", "two-sided", R::kRuntime,
                   {"two-sided", "less", "greater"}, "ordering tests; less = A first")),
      Fixed(Key("analysis.stability_metrics", T::kStringList, "[emb_cos_prev, cka_prev]",
                R::kRuntime, "metrics of the three-phase analysis")),
      Fixed(Key("analysis.control_key", T::kString, "task.random_labels", R::kRuntime,
                "hyperparameter marking control jobs")),
      Fixed(Choice("analysis.effect_kind", "changepoint", R::kRuntime,
                   {"changepoint", "steepest", "threshold", "settle"},
                   "transition used for hyperparameter effects")),
      Fixed(Key("analysis.early_stop_metric", T::kString, "test_loss", R::kRuntime,
                "early-stopping monitor, lower is better")),
      Fixed(Key("analysis.early_stop_reference", T::kString, "emb_cos_prev", R::kRuntime,
                "reference transition metric[:kind]")),
      Fixed(Ranged(Key("analysis.patience", T::kInt, "10", R::kRuntime,
                       "probes without improvement before stopping"),
                   1, 1e9)),
      Fixed(Ranged(Key("analysis.min_delta", T::kDouble, "0", R::kRuntime,
                       "improvement that resets patience"),
                   0, 1e300)),
      // output
      Fixed(Key("output.path", T::kString, "results.h5", R::kRuntime,
                "results file (-o on the command line wins)")),
  };
  // Runtime settings do not change a job's results, so sweeping them would only duplicate jobs.
  for (KeySpec& k : keys) {
    if (k.role == KeyRole::kRuntime) k.sweepable = false;
  }
  return keys;
}

int EditDistance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Shortest text that reads back as exactly `v`, always recognisable as a real number. The %g
// layout (kShortestG) is what job ids and config hashes are made of: it must never change.
std::string FormatDouble(double v) {
  std::string s = JsonNumber(v, DoubleFormat::kShortestG);
  if (std::isfinite(v) && s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string RangeText(const KeySpec& s) {
  std::string lo = s.min ? (s.min_exclusive ? "> " : ">= ") + FormatDouble(*s.min) : "";
  std::string hi = s.max ? "<= " + FormatDouble(*s.max) : "";
  if (!lo.empty() && !hi.empty()) return lo + " and " + hi;
  return lo + hi;
}

Status CheckRange(const KeySpec& spec, double v, const std::string& shown,
                  const std::string& where) {
  bool low = spec.min && (spec.min_exclusive ? v <= *spec.min : v < *spec.min);
  bool high = spec.max && v > *spec.max;
  if (low || high || std::isnan(v)) {
    return Status::InvalidArgument(where + ": " + spec.key + " = " + shown +
                                   " is out of range; valid: " + RangeText(spec));
  }
  return Status::Ok();
}

Status CheckChoice(const KeySpec& spec, const std::string& word, const std::string& where) {
  if (spec.choices.empty() ||
      std::find(spec.choices.begin(), spec.choices.end(), word) != spec.choices.end()) {
    return Status::Ok();
  }
  return Status::InvalidArgument(where + ": " + spec.key + " = '" + word +
                                 "' is not valid; valid: " + Join(spec.choices, ", "));
}

}  // namespace

std::string Value::Canonical() const {
  struct V {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return FormatDouble(d); }  // exact, shortest
    std::string operator()(const std::string& s) const { return JsonQuote(s); }
    std::string operator()(const std::vector<std::string>& l) const {
      std::vector<std::string> q;
      for (const auto& s : l) q.push_back(JsonQuote(s));
      return "[" + Join(q, ",") + "]";
    }
  };
  return std::visit(V{}, v_);
}

std::string Value::Display() const {
  if (const double* d = std::get_if<double>(&v_)) return FormatDouble(*d);
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  if (const auto* l = std::get_if<std::vector<std::string>>(&v_)) return "[" + Join(*l, ", ") + "]";
  return Canonical();
}

const std::vector<ProbeInfo>& ProbeCatalog() {
  static const std::vector<ProbeInfo> catalog = {
      {"train_loss", "mean cross-entropy on the whole training set"},
      {"test_loss", "mean cross-entropy on the whole test set"},
      {"train_acc", "accuracy on the whole training set"},
      {"test_acc", "accuracy on the whole test set"},
      {"emb_norm", "Frobenius norm of the input embedding"},
      {"emb_row_norm_mean", "mean L2 norm of the embedding's rows"},
      {"emb_cos_prev", "cosine of the flattened embedding vs the previous probe"},
      {"emb_cos_init", "cosine of the flattened embedding vs initialisation"},
      {"rel_update", "||W_t - W_prev||_F / ||W_prev||_F over all parameters"},
      {"emb_rel_update", "relative update of the embedding alone"},
      {"cka_prev", "CKA of the hidden representation vs the previous probe"},
      {"cka_init", "CKA of the hidden representation vs initialisation"},
      {"eff_rank", "Roy-Vetterli effective rank of the hidden representation"},
      {"stable_rank", "stable rank of the hidden representation"},
      {"participation_ratio", "participation ratio of the hidden representation"},
      {"emb_eff_rank", "effective rank of the embedding"},
      {"emb_stable_rank", "stable rank of the embedding"},
      {"emb_participation_ratio", "participation ratio of the embedding"},
      {"silhouette", "cosine silhouette of hidden representations by label"},
      {"nc1", "within- vs between-class variability (neural collapse NC1)"},
      {"weight_norm", "L2 norm of all parameters"},
      {"grad_norm", "L2 norm of the loss gradient on the probe batch"},
      {"grad_noise_scale",
       "two-batch estimate of tr(Sigma)/|G|^2 on the probe batch (NaN when noise dominates)"},
      {"sharpness", "top Hessian eigenvalue by power iteration (costly)"},
      {"fourier_gini", "Gini coefficient of embedding norms over Fourier modes of Z_p"},
  };
  return catalog;
}

const std::vector<KeySpec>& Schema() {
  static const std::vector<KeySpec> schema = BuildSchema();
  return schema;
}

const std::vector<std::string>& Sections() {
  static const std::vector<std::string> s = {"name",   "task",  "model",    "optimizer", "training",
                                             "probes", "sweep", "analysis", "output"};
  return s;
}

const KeySpec* FindKey(const std::string& key) {
  for (const auto& k : Schema()) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::optional<std::string> NearestWord(const std::string& word,
                                       const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  int best_d = 1 << 30;
  auto leaf = [](const std::string& s) { return s.substr(s.rfind('.') + 1); };
  for (const auto& c : candidates) {
    int d = EditDistance(word, c);
    // A correct leaf under the wrong section ("training.lr" -> "optimizer.lr") is a near miss too.
    if (word.find('.') != std::string::npos && leaf(word) == leaf(c)) d = std::min(d, 2);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const int limit = std::max<int>(2, static_cast<int>(word.size()) / 4);
  if (best && best_d <= limit) return best;
  return std::nullopt;
}

std::optional<std::string> DidYouMean(const std::string& key) {
  std::vector<std::string> candidates;
  for (const auto& k : Schema()) candidates.push_back(k.key);
  for (const char* s : {"sweep.seeds", "sweep.grid", "sweep.random"}) candidates.push_back(s);
  return NearestWord(key, candidates);
}

Result<Value> ValueFromText(const KeySpec& spec, const std::string& text,
                            const std::string& where) {
  if (spec.type == T::kStringList) {
    YAML::Node n;
    try {
      n = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(where + ": " + spec.key +
                                     " expects a list like [a, b]: " + e.msg);
    }
    if (!n.IsSequence()) {
      return Status::InvalidArgument(where + ": " + spec.key +
                                     " expects a list like [a, b], got '" + text + "'");
    }
    std::vector<std::string> items;
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        return Status::InvalidArgument(where + ": " + spec.key + " expects a list of words");
      }
      items.push_back(item.Scalar());
    }
    return ValueFromList(spec, items, where);
  }
  std::string shown = "'" + text + "'";
  auto bad_type = [&](const char* what) {
    return Status::InvalidArgument(where + ": " + spec.key + " expects " + what + ", got " + shown);
  };
  switch (spec.type) {
    case T::kBool: {
      YAML::Node n = YAML::Node(text);
      bool b;
      if (!YAML::convert<bool>::decode(n, b)) return bad_type("true or false");
      return Value(b);
    }
    case T::kIntOrAuto:
      if (text == "auto") return Value(int64_t{0});
      [[fallthrough]];
    case T::kInt: {
      size_t pos = 0;
      long long v = 0;
      try {
        v = std::stoll(text, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != text.size()) {
        return bad_type(spec.type == T::kIntOrAuto ? "an integer or auto" : "an integer");
      }
      PHASESWEEP_RETURN_IF_ERROR(CheckRange(spec, static_cast<double>(v), text, where));
      return Value(static_cast<int64_t>(v));
    }
    case T::kDouble: {
      size_t pos = 0;
      double v = 0;
      try {
        v = std::stod(text, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != text.size() || !std::isfinite(v)) return bad_type("a number");
      PHASESWEEP_RETURN_IF_ERROR(CheckRange(spec, v, text, where));
      return Value(v);
    }
    case T::kString:
      PHASESWEEP_RETURN_IF_ERROR(CheckChoice(spec, text, where));
      return Value(text);
    case T::kStringList:
      break;
  }
  return Status::Internal("unhandled value type for " + spec.key);
}

Result<Value> ValueFromList(const KeySpec& spec, const std::vector<std::string>& items,
                            const std::string& where) {
  if (spec.type != T::kStringList) {
    return Status::InvalidArgument(where + ": " + spec.key + " expects a single value, got a list");
  }
  std::vector<std::string> seen;
  for (const auto& item : items) {
    PHASESWEEP_RETURN_IF_ERROR(CheckChoice(spec, item, where));
    if (std::find(seen.begin(), seen.end(), item) != seen.end()) {
      return Status::InvalidArgument(where + ": " + spec.key + " lists '" + item + "' twice");
    }
    seen.push_back(item);
  }
  return Value(items);
}

}  // namespace phasesweep::orchestrator
