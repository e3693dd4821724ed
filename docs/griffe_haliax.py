"""A griffe extension for the API reference: what inspection gets wrong about our classes.

The reference inspects live objects (``force_inspection``), which makes three mistakes that this
extension corrects:

- a class attribute whose value is a builtin (``inference = False``) inherits the docstring of
  the value's type (``bool(x) -> bool ...``): such borrowed docstrings are dropped;
- ``__slots__`` fields show up as ``array = <member 'array' of 'NamedArray' objects>``: they
  become plain instance attributes, annotated from the class;
- dataclass (Equinox module) fields without a default are not class attributes, so they are
  missing: every field is listed, with its annotation.

Members are then ordered for reading: ``init`` and ``__call__`` first, then the fields, then
the other methods and properties in source order.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any

import griffe

_FIRST = ("init", "__call__")
_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)


def _annotation(cls: type, name: str) -> str | None:
    for klass in cls.__mro__:
        annotation = vars(klass).get("__annotations__", {}).get(name)
        if annotation is not None:
            return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return None


class HaliaxReference(griffe.Extension):
    """Clean up inspected attributes and order class members (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._fields: dict[str, list[str]] = {}

    def on_attribute_instance(self, *, node: Any, attr: griffe.Attribute, agent: Any, **kwargs: Any) -> None:
        value = getattr(node, "obj", None)
        if isinstance(value, _DESCRIPTORS):
            attr.value = None
            attr.docstring = None
            attr.labels.discard("class-attribute")
            attr.labels.add("instance-attribute")
            owner = getattr(node.parent, "obj", None)
            if isinstance(owner, type):
                attr.annotation = _annotation(owner, attr.name)
            return
        own = inspect.getdoc(type(value))
        if attr.docstring is not None and own and attr.docstring.value.strip() == own.strip():
            attr.docstring = None

    def on_class_members(self, *, node: Any, cls: griffe.Class, agent: Any, **kwargs: Any) -> None:
        klass = getattr(node, "obj", None)
        if not isinstance(klass, type):
            return
        if dataclasses.is_dataclass(klass):
            fields = [f.name for f in dataclasses.fields(klass)]
        else:  # a class with __slots__ (NamedArray): its slots are its fields
            slots = vars(klass).get("__slots__", ())
            fields = [slots] if isinstance(slots, str) else list(slots)
        for name in fields:
            if name.startswith("_"):
                continue
            if name not in cls.members:
                field = griffe.Attribute(name, annotation=_annotation(klass, name), parent=cls)
                field.labels.add("instance-attribute")
                cls.set_member(name, field)
        self._fields[cls.path] = [n for n in fields if not n.startswith("_")]

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Once everything is loaded: put inherited public members in each class, in reading order.

        Reading order is init/__call__, the fields, the class's own members in source order,
        then inherited ones. Rendering through an alias (``::: haliax.nn.Linear``) keeps the
        members' dict order, so the dict is rebuilt in that order.
        """
        if pkg.name == "haliax":
            for cls in _classes(pkg):
                self._reorder(cls)

    def _reorder(self, cls: griffe.Class) -> None:
        try:
            inherited = dict(cls.inherited_members)
        except Exception:  # a base griffe cannot resolve (outside the package): nothing to add
            inherited = {}
        own = {n: m for n, m in cls.members.items() if not m.is_alias or _resolves(m)}
        fields = self._fields.get(cls.path, [])
        first = [n for n in (*_FIRST, *fields) if n in own or n in inherited]
        rest = sorted(
            (n for n in own if n not in first),
            key=lambda n: (
                own[n].is_alias or own[n].lineno is None,
                0 if own[n].is_alias else own[n].lineno or 0,
            ),
        )
        later = [n for n in inherited if n not in own and n not in first and _public(n)]
        cls.members.clear()
        for name in (*first, *rest, *later):
            cls.members[name] = own[name] if name in own else inherited[name]


def _resolves(alias: Any) -> bool:
    """Whether an alias's target is loaded (one pointing outside the package is dropped)."""
    try:
        alias.final_target  # noqa: B018  # resolving is the test
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _public(name: str) -> bool:
    return not name.startswith("_") or name in _FIRST


def _classes(obj: griffe.Object) -> Any:
    for member in list(obj.members.values()):
        if member.is_alias:
            continue
        if isinstance(member, griffe.Class):
            yield member
            yield from _classes(member)
        elif isinstance(member, griffe.Module):
            yield from _classes(member)
