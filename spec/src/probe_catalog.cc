// The probe metrics a config may ask for (probes.metrics), each with its line of documentation
// (docs/METRICS.md gives the formulas).
#include "phasesweep/spec/catalog.h"

namespace phasesweep::spec {

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

}  // namespace phasesweep::spec
