"""The models of the suite, each declared once: everything the autoencoder, the command line, the
sweep, run identity, figures, bench and aggregation need to know about a model. Imports only the
standard library, so listing and checking models needs no TensorFlow.

Adding a model: one `ModelSpec` in MODELS (and its penalty in models/regularisers.py, if any).

| suite        | disentanglement_lib            | loss                                            |
|--------------|--------------------------------|-------------------------------------------------|
| echo         | (none: Brekelmans et al. 2019) | D + beta I(x;z) (+ gamma TC by a discriminator) |
| vae          | beta_vae (gamma > 0: factor_vae) | D + beta KL (+ gamma TC by a discriminator)   |
| beta_tcvae   | beta_tc_vae (beta = gamma + 1) | D + beta KL + gamma TC_mws                      |
| dip_vae_i/ii | dip_vae (dip_type 'i'/'ii')    | D + beta KL + DIP covariance penalty            |
| annealed_vae | annealed_vae                   | D + gamma |KL - C(t)|                           |
| info_vae     | (none: the echo repo's info_vae.json) | D + beta KL + gamma MMD(q(z), N(0, I))   |
"""
import dataclasses

from echo_suite import checks

# Logged by every model (nats per example), and by the FactorVAE discriminator when gamma > 0.
BASE_TERMS = {"loss": "nats", "distortion": "nats", "rate": "nats"}
DISCRIMINATOR_TERMS = {"tc": "nats (estimate)", "disc_loss": "", "disc_accuracy": ""}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """One model of the suite.

  Attributes:
    name: the suite's name (--model).
    head: 'echo' (Echo noise, exact rate) or 'gaussian' (reparameterised Gaussian, KL).
    penalty: name of its penalty class in models.regularisers, or None.
    penalty_args: fixed arguments of the penalty (e.g. DIP's kind).
    default_gamma: model.gamma when not set.
    takes_beta: whether beta (the rate's weight) applies; if not it must stay 1.
    takes_gamma: whether gamma applies; if not it must stay 0.
    discriminator: gamma > 0 adds FactorVAE's discriminator (TC of z, Kim & Mnih 2018).
    rate_in_loss: beta * rate is part of the loss (AnnealedVAE puts the rate in its penalty).
    gin_scopes: the penalty's own configurables (their bindings are part of the run).
    log_terms: logged terms beyond BASE_TERMS, with units (figures plot them).
    dlib_name: disentanglement_lib's name of the model, or None.
    citation: where its loss is defined.
  """
  name: str
  head: str = "gaussian"
  penalty: str = None
  penalty_args: dict = dataclasses.field(default_factory=dict)
  default_gamma: float = 0.0
  takes_beta: bool = True
  takes_gamma: bool = True
  discriminator: bool = False
  rate_in_loss: bool = True
  gin_scopes: tuple = ()
  log_terms: dict = dataclasses.field(default_factory=dict)
  dlib_name: str = None
  citation: str = ""

  @property
  def rate_kind(self):
    """What the logged rate is: Echo's exact I(x;z), or the Gaussian KL (an upper bound)."""
    return "exact rate" if self.head == "echo" else "KL"

  @property
  def rate_record(self):
    """rate_kind as results.json's training block names it."""
    return "exact_rate_nats" if self.head == "echo" else "kl_upper_bound_nats"

  def log_names(self, gamma):
    """Names of the scalar terms a training step of this model with weight `gamma` logs."""
    names = list(BASE_TERMS) + list(self.log_terms)
    return names + (list(DISCRIMINATOR_TERMS) if self.uses_discriminator(gamma) else [])

  def uses_discriminator(self, gamma):
    return self.discriminator and gamma > 0

  def check_weights(self, beta, gamma):
    """Raise ValueError naming the weight that this model does not take or that is out of range."""
    checks.check_number("beta", beta, minimum=0)
    checks.check_number("gamma", gamma, minimum=0)
    if not self.takes_gamma and gamma != 0:
      raise ValueError(f"gamma={gamma!r}: {self.name} has no gamma"
                       + (f"; set its weights with {', '.join(self.gin_scopes)}.*"
                          if self.gin_scopes else ""))
    if not self.takes_beta and beta != 1:
      raise ValueError(f"beta={beta!r}: {self.name} has no beta; leave it at 1")


MODELS = {spec.name: spec for spec in (
    ModelSpec("echo", head="echo", discriminator=True, dlib_name=None,
              citation="Brekelmans et al. 2019, Eq. 7"),
    ModelSpec("vae", discriminator=True, dlib_name="beta_vae",
              citation="Higgins et al. 2017; gamma > 0: Kim & Mnih 2018"),
    ModelSpec("beta_tcvae", penalty="TCPenalty", default_gamma=5.0, log_terms={"tc": "nats (estimate)"},
              dlib_name="beta_tc_vae", citation="Chen et al. 2018, Eq. 4"),
    ModelSpec("dip_vae_i", penalty="DIPPenalty", penalty_args={"kind": "i"}, takes_gamma=False,
              gin_scopes=("dip",), log_terms={"dip_penalty": ""}, dlib_name="dip_vae",
              citation="Kumar et al. 2018, Eq. 6"),
    ModelSpec("dip_vae_ii", penalty="DIPPenalty", penalty_args={"kind": "ii"},
              takes_gamma=False, gin_scopes=("dip",), log_terms={"dip_penalty": ""},
              dlib_name="dip_vae", citation="Kumar et al. 2018, Eq. 7"),
    ModelSpec("annealed_vae", penalty="CapacityPenalty", default_gamma=1000.0, takes_beta=False,
              rate_in_loss=False, gin_scopes=("annealing",),
              log_terms={"capacity": "target C (nats)"}, dlib_name="annealed_vae",
              citation="Burgess et al. 2018, Eq. 8"),
    ModelSpec("info_vae", penalty="MMDPenalty", default_gamma=999.0, gin_scopes=("mmd",),
              log_terms={"mmd": ""}, citation="Zhao et al. 2017 (InfoVAE, alpha 0, lambda 1000)"),
)}
MODEL_NAMES = tuple(MODELS)
_DLIB_NAMES = {"beta_vae": "vae", "factor_vae": "vae (with --gamma > 0)",
               "beta_tc_vae": "beta_tcvae", "dip_vae": "dip_vae_i or dip_vae_ii"}


def get(name: str) -> ModelSpec:
  """The ModelSpec called `name`; ValueError naming the choices (and the suite's name for a
  disentanglement_lib name)."""
  if name in MODELS:
    return MODELS[name]
  hint = f" (disentanglement_lib's {name!r} is {_DLIB_NAMES[name]!r} here)" \
      if name in _DLIB_NAMES else ""
  raise ValueError(f"unknown model {name!r}{hint}; choose one of {list(MODEL_NAMES)}")


def default_gamma(name):
  return get(name).default_gamma


def term_units():
  """Every logged term of every model -> its unit (figures label their axes with it)."""
  units = {**BASE_TERMS, **DISCRIMINATOR_TERMS}
  for spec in MODELS.values():
    units.update(spec.log_terms)
  return units
