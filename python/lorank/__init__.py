"""lorank: exact spectra, rank audits and right-sizing of LoRA adapters.

The Python face of lorank's C++ library (the same code as the ``lorank`` command line):

    import lorank
    result = lorank.audit("path/to/adapter")       # PEFT folder, .safetensors, .bin, GGUF, mlx_lm
    result.modules[0].recommended_rank
    peft.LoraConfig(**result.suggested_config)      # the advice for the next run
    lorank.spectrum(B, A, scale=2.0)                # sigma(scale * B @ A) from the factors

Every result equals what the CLI's ``--json`` prints (``to_dict()`` / the returned dicts
are parsed from the library's own JSON writer). Failures raise ``lorank.Error`` subclasses
carrying the CLI's one-line message. Computation runs with the GIL released; lorank sets
OpenBLAS (shared with NumPy and torch in this process) to one thread while it runs and
restores the previous count afterwards. See docs/python.md.
"""
from __future__ import annotations

import html as _html
import json as _json
import os as _os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from . import _lorank
from ._lorank import (  # noqa: F401  (re-exported)
    Adapter,
    CorruptFileError,
    Error,
    InternalError,
    IOError,
    Module,
    NotFoundError,
    NotSupportedError,
    NumericalError,
    UsageError,
    open,
    spectrum,
)

__version__: str = _lorank.__version__

__all__ = [
    "__version__", "Error", "UsageError", "CorruptFileError", "IOError", "NotFoundError",
    "NotSupportedError", "NumericalError", "InternalError", "Adapter", "Module", "AuditModule",
    "AuditResult", "open", "spectrum", "audit", "resize", "compare", "demo", "merge", "combine",
    "extract",
]

PathLike = Union[str, "_os.PathLike[str]"]
Progress = Optional[Callable[[int, int], Any]]

# The metrics of every audited module (docs/metrics.md), read as attributes of AuditModule.
_METRICS = ("untrained", "sigma1", "frobenius", "threshold_tau", "threshold_rank",
            "energy_rank_90", "energy_rank_95", "energy_rank_99", "entropy_rank",
            "stable_rank", "gap_index", "gap_ratio", "gap_capped", "tail_ratio")


class AuditModule:
    """One audited module: its identity, exact spectrum, metrics and recommended rank.

    Attributes come from the module's entry in the CLI's ``--json`` (docs/audit.md):
    ``name``, ``short_name``, ``layer``, ``type``, ``kind``, ``rank``, ``out``, ``in_``
    (``in`` is a Python keyword), ``shape`` (out, in), ``alpha``, ``scale``,
    ``scale_rule``, ``dtype``, ``dora``, ``rule_rank``, ``recommended_rank``,
    ``config_rank``, ``base`` (dict or None, with ``audit(base=...)``), ``metrics`` (dict),
    and every metric directly: ``untrained``, ``sigma1``, ``frobenius``, ``threshold_tau``,
    ``threshold_rank``, ``energy_rank_90``/``95``/``99``, ``entropy_rank``,
    ``stable_rank``, ``gap_index``, ``gap_ratio``, ``gap_capped``, ``tail_ratio``.
    ``singular_values`` is a read-only float64 ndarray (descending, min(r, out, in) values).
    """

    __slots__ = ("_entry", "singular_values")

    def __init__(self, entry: Dict[str, Any], singular_values: Any) -> None:
        self._entry = entry
        self.singular_values = singular_values

    def __getattr__(self, name: str) -> Any:
        entry = object.__getattribute__(self, "_entry")
        if name == "in_":
            return entry["in"]
        if name == "shape":
            return (entry["out"], entry["in"])
        if name in entry and name != "singular_values":
            return entry[name]
        if name in _METRICS:
            return entry["metrics"][name]
        if name == "base":
            return None
        raise AttributeError(f"'AuditModule' object has no attribute '{name}'")

    def __dir__(self) -> List[str]:
        return sorted(set(self._entry) | set(_METRICS) | {"in_", "shape", "base", "to_dict"})

    def to_dict(self) -> Dict[str, Any]:
        """This module's entry of AuditResult.to_dict() (a copy)."""
        return _json.loads(_json.dumps(self._entry))

    def __repr__(self) -> str:
        e = self._entry
        return (f"<lorank.AuditModule {e['name']} r={e['rank']} "
                f"recommended={e['recommended_rank']} sigma1={e['metrics']['sigma1']:.4g}>")


class AuditResult:
    """The audit of one adapter (lorank.audit).

    ``modules`` (list of AuditModule, natural name order), ``suggested_config`` (a dict for
    ``peft.LoraConfig(**...)``), ``summary`` (dict), ``path``, ``format``, ``container``,
    ``rule``, ``snap``, ``tau``, ``warnings``, ``passthrough``, ``base`` (dict or None).
    ``to_dict()`` is exactly ``json.loads`` of ``lorank audit --json``; ``html()`` the page
    of ``lorank audit --html``, shown inline by notebooks (``_repr_html_``); ``table()`` the
    terminal report; ``csv()`` ``lorank audit --csv``.
    """

    def __init__(self, report: Any) -> None:
        self._report = report
        self._dict: Dict[str, Any] = _json.loads(report.json())
        self.modules: List[AuditModule] = [
            AuditModule(entry, report.singular_values(i))
            for i, entry in enumerate(self._dict["modules"])]

    path = property(lambda self: self._dict["adapter"]["path"], doc="The weights file.")
    format = property(lambda self: self._dict["adapter"]["format"], doc="'peft', 'kohya', 'gguf', 'mlx'.")
    container = property(lambda self: self._dict["adapter"]["container"])
    warnings = property(lambda self: list(self._dict["adapter"]["warnings"]))
    rule = property(lambda self: self._dict["rule"], doc="The rank rule used, e.g. 'threshold:0.01'.")
    snap = property(lambda self: self._dict["snap"])
    tau = property(lambda self: self._dict["tau"])
    summary = property(lambda self: _json.loads(_json.dumps(self._dict["summary"])))
    passthrough = property(lambda self: _json.loads(_json.dumps(self._dict["passthrough"])))
    base = property(lambda self: self._dict.get("base"))

    @property
    def suggested_config(self) -> Dict[str, Any]:
        """A PEFT LoraConfig for the next training run: ``peft.LoraConfig(**cfg)``."""
        return _json.loads(_json.dumps(self._dict["suggested_config"]))

    def to_dict(self) -> Dict[str, Any]:
        """The report as a dict, equal to ``json.loads`` of ``lorank audit --json``."""
        return _json.loads(self._report.json())

    def to_json(self) -> str:
        """The report as ``lorank audit --json`` prints it."""
        return self._report.json()

    def html(self) -> str:
        """The self-contained HTML page of ``lorank audit --html``."""
        return self._report.html()

    def table(self) -> str:
        """The terminal report of ``lorank audit``."""
        return self._report.table()

    def csv(self) -> str:
        """One CSV row per module, as ``lorank audit --csv``."""
        return self._report.csv()

    def _repr_html_(self) -> str:
        # The full report (summary, spectra, heatmap, energy curves, config, table) in an
        # iframe, so its styles and scripts stay inside it.
        return ('<iframe style="width:100%;height:720px;border:1px solid #ddd" srcdoc="'
                + _html.escape(self.html(), quote=True) + '"></iframe>')

    def __repr__(self) -> str:
        s = self._dict["summary"]
        return (f"<lorank.AuditResult {self.format} '{self.path}' {s['modules']} modules, "
                f"rule {self.rule}: {s['lora_params']} -> {s['recommended_params']} params>")


def _rule_of(rank: Optional[int], energy: Optional[float], threshold: Optional[float],
             rule: Optional[str], default: Optional[str] = None) -> Optional[str]:
    """The one rank rule given as keywords, spelled as lorank's rule text."""
    given = [(k, v) for k, v in (("rank", rank), ("energy", energy), ("threshold", threshold),
                                 ("rule", rule)) if v is not None]
    if not given and default is not None:
        return default
    if len(given) != 1:
        raise UsageError(f"give exactly one of rank=, energy=, threshold=, rule= (got {len(given)})")
    key, value = given[0]
    if key == "rank":
        if isinstance(value, bool) or int(value) != value:
            raise UsageError(f"rank must be a whole number, got {value!r}")
        return f"fixed:{int(value)}"
    if key == "rule":
        return str(value)
    return f"{key}:{float(value)!r}"


def audit(path_or_adapter: Union[PathLike, Adapter], rule: str = "threshold:0.01",
          snap: Optional[str] = None, *, tau: float = 0.01, alpha: Optional[float] = None,
          base: Optional[PathLike] = None, base_seed: int = 0, w_svd: str = "auto",
          threads: int = 0, progress: Progress = None) -> AuditResult:
    """Audit an adapter: every module's exact spectrum, rank metrics and a recommended rank.

    Same computation and results as ``lorank audit PATH --json`` (docs/audit.md).

    Args:
        path_or_adapter: a PEFT or mlx_lm folder, a .safetensors / .bin / .gguf file, or an
            Adapter from lorank.open().
        rule: the rank rule: threshold:TAU | energy:P | peft:P | kohya-ratio:P |
            kohya-fro:P | kohya-cumulative:P | lycoris-ratio:P | lycoris-quantile:P |
            entropy | gap | fixed:K (docs/metrics.md).
        snap: round recommended ranks up to what servers accept: None, "vllm" or "pow2".
        tau: the threshold-rank metric's tau (sigma_i >= tau * sigma_1), 0 < tau <= 1.
        alpha: alpha for adapters that carry none (scale = alpha / r); paths only.
        base: the base model (safetensors file or folder, GGUF, .bin) to compare every
            update with its W (docs/base-audit.md).
        base_seed: seed of base's random subspaces.
        w_svd: how base's top singular values are computed: "auto", "dense", "krylov".
        threads: worker threads, 0 = one per core.
        progress: optional progress(done, total), called from worker threads with the GIL
            held, one call at a time. An exception in it stops further calls and is
            re-raised when the audit returns.

    Returns:
        AuditResult; ``.to_dict()`` equals the CLI's JSON.

    Raises:
        UsageError for a bad rule, snap, tau or w_svd; NotFoundError, CorruptFileError,
        NotSupportedError, NumericalError (NaN/Inf factors) naming the file and module.
    """
    report = _lorank._audit(path_or_adapter, rule, "none" if snap is None else snap, tau, alpha,
                            base, base_seed, w_svd, threads, progress)
    return AuditResult(report)


def resize(path_or_adapter: Union[PathLike, Adapter], out: Optional[PathLike] = None, *,
           rank: Optional[int] = None, energy: Optional[float] = None,
           threshold: Optional[float] = None, rule: Optional[str] = None,
           snap: Optional[str] = None, sigma_in_b: bool = False, dtype: Optional[str] = None,
           alpha: Optional[float] = None, dry_run: bool = False, overwrite: bool = False,
           verify: bool = True, threads: int = 0, progress: Progress = None) -> Dict[str, Any]:
    """Right-size an adapter by truncated SVD and write it to ``out`` in its own format.

    As ``lorank resize IN -o OUT --json``: give exactly one of ``rank`` (keep k directions),
    ``energy`` (smallest k keeping that fraction of sum sigma^2), ``threshold`` (keep
    sigma_i >= T * sigma_1) or ``rule`` (any audit rule, e.g. "kohya-fro:0.9"). ``snap``
    rounds each new rank up ("vllm", "pow2"); ``dtype`` ("F64", "F32", "F16", "BF16")
    converts the factors; ``dry_run`` writes nothing; ``overwrite`` replaces an earlier
    lorank output (never the input); ``verify`` re-reads the output and checks its spectra
    before it appears. Returns the CLI's JSON report as a dict. Raises UsageError when no
    module's rank would go down (a full-rank copy), as the CLI does.
    """
    spec = _rule_of(rank, energy, threshold, rule)
    return _json.loads(_lorank._resize(
        path_or_adapter, None if out is None else _os.fspath(out), spec,
        "none" if snap is None else snap, sigma_in_b, dtype, alpha, dry_run, overwrite, verify,
        threads, progress))


def compare(a: Union[PathLike, Adapter], b: Union[PathLike, Adapter], *, k: Optional[int] = None,
            side: str = "left", threads: int = 0) -> Dict[str, Any]:
    """Compare two adapters' subspaces module by module (``lorank compare A B --json``).

    ``k`` is each module's headline top-k overlap (default: the smaller threshold rank);
    ``side`` "left" compares the output spaces (U), "right" the input spaces (V).
    Returns the CLI's JSON report as a dict (docs/compare.md).
    """
    return _json.loads(_lorank._compare(a, b, k, side, threads))


def demo(**params: Any) -> Dict[str, Any]:
    """Reproduce the explainer's rank demo (``lorank demo --json``).

    Parameters (all optional, the CLI's defaults): dim (target is dim x dim), true_rank,
    ranks (sequence of allocated ranks), steps, lr, noise, seed, init_seed, threads.
    Returns the CLI's JSON report as a dict.
    """
    values = dict(_lorank._demo_defaults())
    unknown = sorted(set(params) - set(values))
    if unknown:
        raise UsageError(f"demo: unknown parameter(s) {', '.join(unknown)} "
                         f"(expected {', '.join(values)})")
    values.update(params)
    values["ranks"] = [int(r) for r in values["ranks"]]
    return _json.loads(_lorank._demo(**values))


def _paths(items: Union[PathLike, Adapter, Iterable[Union[PathLike, Adapter]]]) -> list:
    if isinstance(items, (str, bytes, _os.PathLike, Adapter)):
        return [items]
    return list(items)


def merge(base: PathLike, adapters: Union[PathLike, Adapter, Sequence[Union[PathLike, Adapter]]],
          out: PathLike, *, dtype: Optional[str] = None, compute: str = "auto",
          scales: Optional[Sequence[float]] = None, scale: float = 1.0,
          alpha: Optional[float] = None, overwrite: bool = False, threads: int = 0,
          progress: Progress = None) -> Dict[str, Any]:
    """Fold adapters into their base model: W' = W + s*B*A (``lorank merge --json``).

    ``dtype`` of merged tensors ("F32", "F16", "BF16"; default the base tensor's),
    ``compute`` "auto" | "F32" | "F64", ``scales`` one factor per adapter on top of
    ``scale``. The output is verified before it appears. Returns the CLI's JSON as a dict.
    """
    return _json.loads(_lorank._merge(base, _paths(adapters), _os.fspath(out), dtype, compute,
                                      None if scales is None else [float(s) for s in scales],
                                      scale, alpha, overwrite, threads, progress))


def combine(adapters: Sequence[Union[PathLike, Adapter]], out: PathLike, *,
            rank: Optional[int] = None, energy: Optional[float] = None,
            threshold: Optional[float] = None, rule: Optional[str] = None, cat: bool = False,
            weights: Optional[Sequence[float]] = None, snap: Optional[str] = None,
            sigma_in_b: bool = False, dtype: Optional[str] = None, alpha: Optional[float] = None,
            overwrite: bool = False, verify: bool = True, threads: int = 0) -> Dict[str, Any]:
    """Combine adapters of one base into one: sum of w_i * B_i*A_i, then resized
    (``lorank combine --json``). With no rank keyword the audit's rule threshold:0.01;
    ``cat`` keeps every direction (exact sum). Returns the CLI's JSON as a dict.
    """
    spec = None if cat and all(v is None for v in (rank, energy, threshold, rule)) else \
        _rule_of(rank, energy, threshold, rule, default="threshold:0.01")
    if cat and spec is not None:
        raise UsageError("cat keeps every direction: give no rank rule with it")
    return _json.loads(_lorank._combine(
        _paths(adapters), _os.fspath(out), spec, cat,
        None if weights is None else [float(w) for w in weights],
        "none" if snap is None else snap, sigma_in_b, dtype, alpha, overwrite, verify, threads))


def extract(base: PathLike, finetuned: PathLike, out: PathLike, *, rank: Optional[int] = None,
            energy: Optional[float] = None, threshold: Optional[float] = None,
            rule: Optional[str] = None, max_rank: Optional[int] = None, tolerance: float = 1e-3,
            include: str = "", exclude: str = "", embeddings: bool = False,
            keep_full: bool = False, dtype: str = "F32", format: str = "peft", seed: int = 0,
            overwrite: bool = False, verify: bool = True,
            progress: Progress = None) -> Dict[str, Any]:
    """Turn a full fine-tune into a LoRA adapter (``lorank extract --json``): each weight's
    dW = finetuned - base, truncated to the rank given by exactly one of ``rank``,
    ``energy``, ``threshold``. ``format`` "peft" | "gguf" | "mlx". Returns the CLI's JSON.
    """
    spec = _rule_of(rank, energy, threshold, rule)
    return _json.loads(_lorank._extract(base, finetuned, _os.fspath(out), spec, max_rank,
                                        tolerance, include, exclude, embeddings, keep_full,
                                        dtype, format, seed, overwrite, verify, progress))
