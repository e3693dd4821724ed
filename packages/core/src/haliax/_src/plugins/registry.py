"""Typed registries filled lazily from Python entry points: named ops, sharding strategies, more.

A registry belongs to one entry-point group. Another distribution adds to it by declaring an
entry point in its own ``pyproject.toml``::

    [project.entry-points."haliax.ops"]
    squared_relu_norm = "my_plugin.ops:squared_relu_norm"

    [project.entry-points."haliax.sharding_strategies"]
    replicated = "my_plugin.strategies:replicated"

or, in-process, by calling `Registry.register`. The rules:

- Nothing is imported until a name is looked up: listing names reads installed metadata only,
  and `Registry.get` imports the entry points that claim the name it returns.
- The haliax packages' own entry points are found from a source checkout too: when
  ``packages/*/src`` is on ``PYTHONPATH`` without an install (no metadata), each package's
  ``pyproject.toml`` is read instead, so the built-in kernels, strategies and ops still resolve.
- A plugin that fails to import gives ONE `PluginLoadWarning` naming the entry point, its
  distribution and the error, and is then left out: a name it alone claims raises
  `RegistryError` with the same text, and a name it shares with a built-in (or any other working
  provider) is served by that provider. ``import haliax`` never imports a plugin, so a broken
  one cannot break it.
- An unknown name raises `RegistryError` listing the available names and the closest match.
- Two working providers of one name are an error naming both (with their distributions), raised
  when the name is looked up; neither silently replaces the other, built-in or not. Registering
  the very object an entry point names is not a conflict, so a package may do both.

The sharding-strategy protocol (group ``haliax.sharding_strategies``): a strategy is a callable
``strategy(model, mesh) -> (parameter_mapping, compute_mapping)``. ``model`` is the pytree about
to be sharded (it may be ``None`` when a strategy is asked for its mappings alone), ``mesh`` a
``jax.sharding.Mesh``. Both results are dicts from a logical axis name (``"embed"``,
``"batch"``) to a mesh axis name, a tuple of mesh axis names, or ``None`` (replicated);
``parameter_mapping`` lays out the model's parameters, ``compute_mapping`` the activations.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import tomllib
import warnings
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from ..base.errors import RegistryError, did_you_mean

T = TypeVar("T")

AxisMapping: TypeAlias = dict[str, str | tuple[str, ...] | None]
"""Logical axis name -> mesh axis name(s), or ``None`` for replicated."""


class ShardingStrategy(Protocol):
    """A sharding strategy: ``(model, mesh) -> (parameter_mapping, compute_mapping)``."""

    def __call__(self, model: Any, mesh: Any, /) -> tuple[AxisMapping, AxisMapping]:
        """The parameter and compute axis mappings for ``model`` on ``mesh``."""
        ...


class PluginLoadWarning(UserWarning):
    """A plugin's entry point failed to import; the registry goes on without it."""


@dataclasses.dataclass(eq=False)
class _Provider:
    """One claim on a name: an entry point (imported on first lookup) or an in-process object."""

    source: str  # e.g. "entry point 'dp' (pkg.mod:fn) from distribution 'haliax-partitioning'"
    entry_point: EntryPoint | None = None
    obj: Any = None
    loaded: bool = False  # obj holds the entry point's object
    error: str | None = None  # why the entry point could not be used (already warned about)
    cause: BaseException | None = None  # the exception its import raised


def _describe_entry_point(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    dist_name = dist.name if dist is not None else "<unknown distribution>"
    return f"entry point {ep.name!r} ({ep.value}) from distribution {dist_name!r}"


def _source_checkout_entry_points(group: str) -> list[tuple[EntryPoint, str]]:
    """Entry points of ``group`` declared by haliax packages imported from a source checkout.

    Each directory of the ``haliax`` namespace (``<package>/src/haliax``) whose package root holds a
    ``pyproject.toml`` contributes that file's ``[project.entry-points.<group>]`` table; an installed
    package's directory has no such file. Returned with a description naming the project.
    """
    haliax = sys.modules.get("haliax")
    found: list[tuple[EntryPoint, str]] = []
    for directory in getattr(haliax, "__path__", ()):
        pyproject = Path(directory).parent.parent / "pyproject.toml"
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        name = project.get("name", "<unnamed project>")
        for ep_name, value in project.get("entry-points", {}).get(group, {}).items():
            source = f"entry point {ep_name!r} ({value}) from source checkout {name!r} ({pyproject.parent})"
            found.append((EntryPoint(ep_name, value, group), source))
    return found


def _target_of(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    return f"{module}:{qualname}" if module and qualname else None


class Registry(Generic[T]):
    """Named providers of one kind, filled from an entry-point group and by `register`.

    Examples:
        >>> from haliax.registry import Registry
        >>> colours = Registry("example.colours", what="colour")
        >>> colours.register("red", "#f00")
        >>> colours.get("red")
        '#f00'
        >>> "blue" in colours
        False
    """

    def __init__(self, group: str, *, what: str = "entry", check: Callable[[Any], bool] | None = None):
        """Make a registry for entry-point ``group``; ``what`` names one entry in messages.

        Args:
            group: the entry-point group scanned for plugins, e.g. ``"haliax.ops"``.
            what: a noun for one entry, used in error messages ("op", "sharding strategy").
            check: optional predicate every loaded object must satisfy (e.g. `callable`).
        """
        self.group = group
        self.what = what
        self._check = check
        self._lock = threading.RLock()
        self._scanned = False
        self._providers: dict[str, list[_Provider]] = {}
        self._loaded: dict[str, T] = {}
        self._warned_conflicts: set[str] = set()

    def __repr__(self) -> str:
        return f"Registry({self.group!r}, what={self.what!r})"

    # ----- filling -----
    def _scan(self) -> None:
        """Read the group's entry points from installed metadata (imports nothing)."""
        if self._scanned:
            return
        with self._lock:
            if self._scanned:
                return
            seen: set[tuple[str, str]] = set()
            installed = [(ep, _describe_entry_point(ep)) for ep in entry_points(group=self.group)]
            for ep, source in [*installed, *_source_checkout_entry_points(self.group)]:
                # An editable install can show one distribution twice, and an installed package its
                # source checkout again; the same target is one provider.
                if (ep.name, ep.value) in seen:
                    continue
                seen.add((ep.name, ep.value))
                self._providers.setdefault(ep.name, []).append(_Provider(source, entry_point=ep))
            self._scanned = True

    def register(self, name: str, obj: T, *, provider: str | None = None) -> None:
        """Register ``obj`` under ``name`` in this process.

        Registering the very object that an installed entry point of the same name points at is
        allowed (a package may both declare and register its built-ins); any other second claim
        on ``name`` raises `RegistryError` naming both providers.

        Args:
            name: the name users look up.
            obj: the op, strategy or other object provided.
            provider: who provides it, for error messages (default: the object's module).
        """
        self._scan()
        target = _target_of(obj)
        source = f"in-process registration by {provider or getattr(obj, '__module__', None) or '<unknown>'!s}"
        with self._lock:
            existing = self._providers.get(name, [])
            for p in existing:
                if p.obj is obj or (
                    p.entry_point is not None and target is not None and p.entry_point.value == target
                ):
                    self._loaded[name] = obj
                    return
            if existing:
                raise self._conflict(name, [*existing, _Provider(source, obj=obj, loaded=True)])
            self._providers[name] = [_Provider(source, obj=obj, loaded=True)]
            self._loaded[name] = obj

    def unregister(self, name: str) -> None:
        """Forget an in-process registration (entry points stay); unknown names are ignored."""
        with self._lock:
            kept = [p for p in self._providers.get(name, []) if p.entry_point is not None]
            if kept:
                self._providers[name] = kept
            else:
                self._providers.pop(name, None)
            self._loaded.pop(name, None)
            self._warned_conflicts.discard(name)

    # ----- lookup -----
    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted (imports nothing)."""
        self._scan()
        return tuple(sorted(self._providers))

    def __contains__(self, name: object) -> bool:
        self._scan()
        return name in self._providers

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def providers(self, name: str) -> tuple[str, ...]:
        """Human-readable descriptions of who provides ``name`` (imports nothing)."""
        self._scan()
        return tuple(p.source for p in self._providers.get(name, []))

    def get(self, name: str) -> T:
        """The object registered under ``name``, importing the plugins that claim it on first use.

        Every entry point that claims ``name`` is imported; one that fails is warned about once
        (`PluginLoadWarning`) and left out, so a broken plugin never hides a working provider.

        Raises:
            RegistryError: the name is unknown (the message lists what is available and the
                closest name), claimed by two working providers (the message names both), or
                every plugin that claims it failed to import.
        """
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        self._scan()
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            providers = self._providers.get(name)
            if not providers:
                raise self._unknown(name)
            working = [p for p in providers if self._load(name, p)]
            if not working:
                message = "; ".join(p.error or "" for p in providers)
                raise RegistryError(message) from next((p.cause for p in providers if p.cause), None)
            distinct = {id(p.obj): p for p in working}
            if len(distinct) > 1:
                raise self._conflict(name, list(distinct.values()))
            obj = working[0].obj
            self._loaded[name] = obj
            return obj

    def _load(self, name: str, provider: _Provider) -> bool:
        """Import ``provider``'s entry point once; on failure warn once and return False."""
        if provider.loaded:
            return True
        if provider.error is not None:
            return False
        assert provider.entry_point is not None
        head = f"{self.group}: the plugin for {self.what} {name!r} ({provider.source})"
        try:
            obj = provider.entry_point.load()
        except Exception as e:  # any import-time failure of a third-party plugin
            provider.error, provider.cause = f"{head} failed to import: {type(e).__name__}: {e}", e
        else:
            if self._check is None or self._check(obj):
                provider.obj, provider.loaded = obj, True
                return True
            provider.error = f"{head} provides {type(obj).__name__!s}, which is not a valid {self.what}"
        warnings.warn(provider.error, PluginLoadWarning, stacklevel=3)
        return False

    def load_all(self) -> dict[str, T]:
        """Import every provider; plugins that fail or conflict are warned about and left out."""
        out: dict[str, T] = {}
        for name in self.names():
            try:
                out[name] = self.get(name)
            except RegistryError as e:
                failed = all(p.error is not None for p in self._providers.get(name, []))
                if not failed and name not in self._warned_conflicts:  # warn once, as for a failed import
                    self._warned_conflicts.add(name)
                    warnings.warn(str(e), PluginLoadWarning, stacklevel=2)
        return out

    # ----- messages -----
    def _unknown(self, name: str) -> RegistryError:
        names = self.names()
        available = ", ".join(repr(n) for n in names) if names else "none installed"
        return RegistryError(
            f"{self.group}: no {self.what} named {name!r}{did_you_mean(name, names) or '.'} "
            f"Available: {available}. To add one, install a plugin that declares it under the "
            f"entry-point group {self.group!r}, or call .register({name!r}, ...)"
        )

    def _conflict(self, name: str, providers: list[_Provider] | None = None) -> RegistryError:
        claims = providers or self._providers[name]
        sources = " and ".join(p.source for p in claims)
        count = {2: "two", 3: "three"}.get(len(claims), str(len(claims)))
        return RegistryError(
            f"{self.group}: {count} providers claim the {self.what} name {name!r}: {sources}; "
            f"uninstall one of them or rename its entry point"
        )


_registries: dict[str, Registry[Any]] = {}


def registry_for(
    group: str, *, what: str = "entry", check: Callable[[Any], bool] | None = None
) -> Registry[Any]:
    """The process-wide registry of an entry-point group, created on first request.

    Examples:
        >>> from haliax.registry import registry_for
        >>> registry_for("haliax.ops") is registry_for("haliax.ops")
        True
    """
    reg = _registries.get(group)
    if reg is None:
        reg = _registries.setdefault(group, Registry(group, what=what, check=check))
    return reg


ops: Registry[Callable[..., Any]] = registry_for("haliax.ops", what="op", check=callable)
"""Named ops (functions on NamedArrays), group ``haliax.ops``."""

sharding_strategies: Registry[ShardingStrategy] = registry_for(
    "haliax.sharding_strategies", what="sharding strategy", check=callable
)
"""Sharding strategies, group ``haliax.sharding_strategies``; see `ShardingStrategy`."""


def get_op(name: str) -> Callable[..., Any]:
    """The named op registered as ``name`` (from a plugin's ``haliax.ops`` entry point or in-process).

    Examples:
        >>> import haliax as hax
        >>> "squared_relu_norm" in hax.list_ops()  # provided by the example plugin
        True
    """
    return ops.get(name)


def list_ops() -> tuple[str, ...]:
    """Names of every registered op, sorted; imports no plugin."""
    return ops.names()


def register_op(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn`` as op ``name`` in this process and return it (usable as a plain call)."""
    ops.register(name, fn)
    return fn


def get_sharding_strategy(name: str) -> ShardingStrategy:
    """The sharding strategy registered as ``name``."""
    return sharding_strategies.get(name)


def list_sharding_strategies() -> tuple[str, ...]:
    """Names of every registered sharding strategy, sorted; imports no plugin."""
    return sharding_strategies.names()
