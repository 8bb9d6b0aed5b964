// The analysis section's table: read by `phasesweep analyze` from the config stored in the
// results file (analysis/src/analysis_config.cc turns these values into AnalysisOptions); never
// part of a job's identity, never swept.
#include "keys.h"

namespace phasesweep::spec {

std::vector<KeySpec> AnalysisKeys() {
  std::vector<KeySpec> keys = {
      Key("analysis.metrics", T::kStringList, "[]", R::kRuntime,
          "metrics to analyse; [] = every stored metric"),
      Open(Key("analysis.alpha", T::kDouble, "0.05", R::kRuntime, "significance level"), 0, 1),
      Choice("analysis.adjust", "holm", R::kRuntime, {"holm", "bh"},
             "multiple-testing adjustment over all p-values of one analysis"),
      Ranged(Key("analysis.surrogates", T::kInt, "199", R::kRuntime,
                 "surrogate null traces per trace for significance"),
             0, 1e6),
      Key("analysis.pairs", T::kStringList,
          "[emb_cos_prev<test_acc, emb_cos_prev<train_loss, cka_prev<test_acc]", R::kRuntime,
          "ordering hypotheses 'A<B': A's transition precedes B's"),
      Choice("analysis.surrogate", "ar1", R::kRuntime, {"ar1", "block"},
             "null model of the per-trace significance test"),
      Ranged(Key("analysis.bootstrap", T::kInt, "2000", R::kRuntime,
                 "BCa bootstrap resamples per interval"),
             0, 1e6),
      Open(Key("analysis.confidence", T::kDouble, "0.95", R::kRuntime, "level of every interval"),
           0, 1),
      Ranged(Key("analysis.seed", T::kInt, "0", R::kRuntime, "seed of all resampling"), 0, 1e18),
      Ranged(Key("analysis.threads", T::kInt, "0", R::kRuntime, "analysis threads; 0 = all cores"),
             0, 4096),
      Key("analysis.bands", T::kBool, "true", R::kRuntime, "store per-step summary bands"),
      Choice("analysis.cost", "l2", R::kRuntime, {"l2", "normal", "rbf"}, "PELT segment cost"),
      Key("analysis.penalty", T::kString, "default", R::kRuntime,
          "PELT penalty: a number, or default (robust BIC)"),
      Ranged(Key("analysis.penalty_scale", T::kDouble, "1", R::kRuntime,
                 "multiplies the default penalty"),
             0, 1e6, true),
      Ranged(Key("analysis.min_size", T::kInt, "2", R::kRuntime,
                 "PELT minimum segment length, probes"),
             1, 1e6),
      Ranged(Key("analysis.jump", T::kInt, "1", R::kRuntime, "PELT breakpoint grid, probes"), 1,
             1e6),
      Ranged(Key("analysis.smooth_sigma", T::kDouble, "1.5", R::kRuntime,
                 "smoothing for steepest/settle, probes"),
             0, 1e6),
      Open(Key("analysis.settle_tolerance", T::kDouble, "0.05", R::kRuntime,
               "plateau band, fraction of range"),
           0, 1),
      Key("analysis.thresholds", T::kStringList, "[test_acc>=0.9:3, emb_cos_prev>=0.98:3]",
          R::kRuntime, "sustained crossings metric>=v:k or metric<=v:k"),
      Key("analysis.min_change", T::kStringList, "[train_acc:0.05, test_acc:0.05]", R::kRuntime,
          "smallest relevant transition height METRIC:VALUE; smaller ones are not counted"),
      Choice("analysis.ordering_alternative", "two-sided", R::kRuntime,
             {"two-sided", "less", "greater"}, "ordering tests; less = A first"),
      Key("analysis.stability_metrics", T::kStringList, "[emb_cos_prev, cka_prev]", R::kRuntime,
          "metrics of the three-phase analysis"),
      Key("analysis.control_key", T::kString, "task.random_labels", R::kRuntime,
          "hyperparameter marking control jobs"),
      Choice("analysis.effect_kind", "changepoint", R::kRuntime,
             {"changepoint", "steepest", "threshold", "settle"},
             "transition used for hyperparameter effects"),
      Key("analysis.early_stop_metric", T::kString, "test_loss", R::kRuntime,
          "early-stopping monitor, lower is better"),
      Key("analysis.early_stop_reference", T::kString, "emb_cos_prev", R::kRuntime,
          "reference transition metric[:kind]"),
      Ranged(Key("analysis.patience", T::kInt, "10", R::kRuntime,
                 "probes without improvement before stopping"),
             1, 1e9),
      Ranged(Key("analysis.min_delta", T::kDouble, "0", R::kRuntime,
                 "improvement that resets patience"),
             0, 1e300),
  };
  for (KeySpec& k : keys) k.sweepable = false;
  return keys;
}

}  // namespace phasesweep::spec
