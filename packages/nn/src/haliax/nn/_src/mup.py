"""Parameterisations (standard and muP) that set a layer's init scale, learning-rate scale and output scale.

A layer takes a reparameterisation *class* (``reparam_cls``); its instance, built from the layer's
axes, answers three questions: how to scale the initial weights (`init_scale`, a static method of
the axes), how an optimizer should scale the layer's learning rate (`lr_scale`), and what the
layer multiplies its output by (`active_scale`). Embeddings add `unembed_active_scale`, used when
the embedding matrix is reused as the output projection.
"""

from __future__ import annotations

import abc
import dataclasses
import math

from haliax.axis import AxisSpec, axis_size


class AbstractReparam(abc.ABC):
    """A parameterisation: init scale from the axes, learning-rate scale, activation scale."""

    @staticmethod
    @abc.abstractmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """Factor multiplying a unit-scale initialisation."""

    @property
    @abc.abstractmethod
    def lr_scale(self) -> float:
        """Factor an optimizer should apply to this layer's learning rate."""

    @property
    def active_scale(self) -> float:
        """Factor multiplying the layer's output."""
        return 1.0


@dataclasses.dataclass(frozen=True)
class AbstractLinearReparam(AbstractReparam):
    """Base of linear-layer parameterisations; holds the layer's ``In`` and ``Out`` axes."""

    In: AxisSpec
    Out: AxisSpec


class LinearStandardParam(AbstractLinearReparam):
    """Standard parameterisation: init ``1/sqrt(fan_in)``, learning-rate and output scale 1."""

    @staticmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """``1 / sqrt(fan_in)``."""
        return 1.0 / math.sqrt(axis_size(In))

    @property
    def lr_scale(self) -> float:
        """1."""
        return 1.0


class InputLinearMup(AbstractLinearReparam):
    """muP input layer: unit init, learning-rate and output scale 1."""

    @staticmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """1."""
        return 1.0

    @property
    def lr_scale(self) -> float:
        """1."""
        return 1.0


class HiddenLinearMup(AbstractLinearReparam):
    """muP hidden layer: init ``1/sqrt(fan_in)``, learning rate scaled by ``1/fan_in``."""

    @staticmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """``1 / sqrt(fan_in)``."""
        return 1.0 / math.sqrt(axis_size(In))

    @property
    def lr_scale(self) -> float:
        """``1 / fan_in``."""
        return 1.0 / axis_size(self.In)


class OutputLinearMup(AbstractLinearReparam):
    """muP output layer: unit init and learning rate, output scaled by ``1/fan_in``."""

    @staticmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """1."""
        return 1.0

    @property
    def lr_scale(self) -> float:
        """1."""
        return 1.0

    @property
    def active_scale(self) -> float:
        """``1 / fan_in``."""
        return 1.0 / axis_size(self.In)


@dataclasses.dataclass(frozen=True)
class AbstractEmbeddingReparam(AbstractReparam):
    """Base of embedding parameterisations; holds ``Embed`` and ``Vocab`` and adds `unembed_active_scale`."""

    Embed: AxisSpec
    Vocab: AxisSpec

    @property
    @abc.abstractmethod
    def unembed_active_scale(self) -> float:
        """Factor multiplying logits when the embedding is used to unembed."""


class EmbeddingStandardParam(AbstractEmbeddingReparam):
    """Standard embedding: init ``1 / embed size`` (as Haliax), all other scales 1."""

    @staticmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """``1 / size of Out`` (the embedding width; not its square root)."""
        return 1.0 / axis_size(Out)

    @property
    def lr_scale(self) -> float:
        """1."""
        return 1.0

    @property
    def unembed_active_scale(self) -> float:
        """1."""
        return 1.0


class EmbeddingMup(AbstractEmbeddingReparam):
    """muP embedding: unit init and learning rate; unembedding scaled by ``1/embed size``."""

    @staticmethod
    def init_scale(In: AxisSpec, Out: AxisSpec) -> float:
        """1."""
        return 1.0

    @property
    def lr_scale(self) -> float:
        """1."""
        return 1.0

    @property
    def unembed_active_scale(self) -> float:
        """``1 / embed size``."""
        return 1.0 / axis_size(self.Embed)


class ReparamEnabled(abc.ABC):
    """Mixin for modules that expose their parameterisation as a `reparam` property."""

    @property
    @abc.abstractmethod
    def reparam(self) -> AbstractReparam:
        """The module's parameterisation instance."""
