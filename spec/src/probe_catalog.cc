// The probe metrics a config may ask for (probes.metrics), each with its line of documentation
// (docs/METRICS.md gives the formulas) and the rule that says whether it can be measured.
#include <algorithm>
#include <string>

#include "phasesweep/spec/catalog.h"

namespace phasesweep::spec {
namespace {

// The probe batch is min(probes.batch, training examples) rows; a metric over `needed` rows
// cannot be measured on fewer.
Status ProbeRows(const PackSpec& pack, const TaskInfo& task, int64_t needed) {
  const int64_t rows = std::min(pack.probes.batch, task.n_train);
  if (rows >= needed) return Status::Ok();
  return Status::InvalidArgument("needs a probe batch of at least " + std::to_string(needed) +
                                 " examples, got " + std::to_string(rows));
}

Status TwoRows(const PackSpec& pack, const TaskInfo& task) { return ProbeRows(pack, task, 2); }

// The debiased CKA estimator divides by (n - 1)(n - 3): it needs four rows.
Status CkaRows(const PackSpec& pack, const TaskInfo& task) {
  return ProbeRows(pack, task, pack.probes.cka == "debiased" ? 4 : 2);
}

Status NeedsTestSet(const PackSpec&, const TaskInfo& task) {
  if (task.n_test > 0) return Status::Ok();
  return Status::InvalidArgument("needs a test set, but the task has no test examples");
}

Status ModularOnly(const PackSpec& pack, const TaskInfo&) {
  if (pack.task.name == "modular_arithmetic") return Status::Ok();
  return Status::InvalidArgument(
      "applies only to task.name = modular_arithmetic (it reads the embedding of the residues "
      "0..p-1 over the Fourier basis of Z_p), not " +
      pack.task.name);
}

}  // namespace

const std::vector<ProbeInfo>& ProbeCatalog() {
  static const std::vector<ProbeInfo> catalog = {
      {"train_loss", "mean cross-entropy on the whole training set"},
      {"test_loss", "mean cross-entropy on the whole test set", &NeedsTestSet},
      {"train_acc", "accuracy on the whole training set"},
      {"test_acc", "accuracy on the whole test set", &NeedsTestSet},
      {"emb_norm", "Frobenius norm of the input embedding"},
      {"emb_row_norm_mean", "mean L2 norm of the embedding's rows"},
      {"emb_cos_prev", "cosine of the flattened embedding vs the previous probe"},
      {"emb_cos_init", "cosine of the flattened embedding vs initialisation"},
      {"rel_update", "||W_t - W_prev||_F / ||W_prev||_F over all parameters"},
      {"emb_rel_update", "relative update of the embedding alone"},
      {"cka_prev", "CKA of the hidden representation vs the previous probe", &CkaRows},
      {"cka_init", "CKA of the hidden representation vs initialisation", &CkaRows},
      {"eff_rank", "Roy-Vetterli effective rank of the hidden representation", &TwoRows},
      {"stable_rank", "stable rank of the hidden representation", &TwoRows},
      {"participation_ratio", "participation ratio of the hidden representation", &TwoRows},
      {"emb_eff_rank", "effective rank of the embedding"},
      {"emb_stable_rank", "stable rank of the embedding"},
      {"emb_participation_ratio", "participation ratio of the embedding"},
      {"silhouette", "cosine silhouette of hidden representations by label", &TwoRows},
      {"nc1", "within- vs between-class variability (neural collapse NC1)", &TwoRows},
      {"weight_norm", "L2 norm of all parameters"},
      {"grad_norm", "L2 norm of the loss gradient on the probe batch", &TwoRows},
      {"grad_noise_scale",
       "two-batch estimate of tr(Sigma)/|G|^2 on the probe batch (NaN when noise dominates)",
       &TwoRows},
      {"sharpness", "top Hessian eigenvalue by power iteration (costly)"},
      {"fourier_gini", "Gini coefficient of embedding norms over Fourier modes of Z_p",
       &ModularOnly},
  };
  return catalog;
}

}  // namespace phasesweep::spec
