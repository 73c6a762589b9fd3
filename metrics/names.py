"""The metrics by name: their gin scopes, the score a table quotes for each and its display name.
Imports nothing, so scripts can name metrics without TensorFlow; metrics/scores.py holds the
functions, one per name here."""

METRIC_NAMES = ("factor_vae", "mig", "dci", "sap", "modularity", "beta_vae", "unsupervised", "irs",
                "downstream_logistic", "downstream_boosted", "fairness")
DEFAULT_METRICS = ("factor_vae", "mig")
EVAL_SETS = ("full", "kept")  # the full, independent dSprites (the paper's) or the training set
REPRESENTATIONS = ("mean", "sample")  # the deterministic code or the noisy code z
# The gin name of each metric's settings.
CONFIGURABLE = {name: f"eval_{name}" for name in METRIC_NAMES}
# The score a table or a figure quotes for each metric, and how it is labelled there.
HEADLINE = {"factor_vae": "eval_accuracy", "mig": "discrete_mig", "dci": "disentanglement",
            "sap": "SAP_score", "modularity": "modularity_score", "beta_vae": "eval_accuracy",
            "unsupervised": "gaussian_total_correlation", "irs": "IRS",
            "downstream_logistic": "mean_test_accuracy", "downstream_boosted": "mean_test_accuracy",
            "fairness": "mean_fairness:mean_pred:mean_sens"}
DISPLAY = {"factor_vae": "FactorVAE", "mig": "MIG", "dci": "DCI disentanglement", "sap": "SAP",
           "modularity": "modularity", "beta_vae": "BetaVAE", "unsupervised": "Gaussian TC",
           "irs": "IRS", "downstream_logistic": "downstream accuracy (logistic)",
           "downstream_boosted": "downstream accuracy (GBT)", "fairness": "unfairness"}


def check_metric_names(metrics):
  """ValueError naming the bad value unless `metrics` is a list of names from METRIC_NAMES."""
  if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) or \
      not all(isinstance(n, str) for n in metrics):
    raise ValueError(f"metrics={metrics!r} must be a list of names from {list(METRIC_NAMES)}")
  unknown = [n for n in metrics if n not in METRIC_NAMES]
  if unknown:
    raise ValueError(f"unknown metric(s) {unknown}; choose from {list(METRIC_NAMES)}")
