import math

import haliax as hax
import haliax.nn as hnn
from haliax.nn import mup

In, Out = hax.make_axes(embed=16, hidden=4)


def test_linear_parameterisations():
    assert mup.LinearStandardParam.init_scale(In, Out) == 1 / math.sqrt(16)
    assert mup.LinearStandardParam(In, Out).lr_scale == 1.0
    assert mup.InputLinearMup.init_scale(In, Out) == 1.0
    assert mup.HiddenLinearMup(In, Out).lr_scale == 1 / 16
    assert mup.OutputLinearMup(In, Out).active_scale == 1 / 16
    assert mup.HiddenLinearMup(In, Out).active_scale == 1.0


def test_embedding_parameterisations_and_reparam_enabled():
    assert mup.EmbeddingMup(In, Out).unembed_active_scale == 1 / 16
    assert mup.EmbeddingStandardParam(In, Out).unembed_active_scale == 1.0
    assert mup.EmbeddingStandardParam.init_scale(Out, In) == 1 / 16  # 1/width, not 1/sqrt(width)
    assert issubclass(hnn.Linear, mup.ReparamEnabled)
    assert issubclass(hnn.Embedding, mup.ReparamEnabled)
    assert issubclass(mup.HiddenLinearMup, mup.AbstractLinearReparam)
    assert issubclass(mup.EmbeddingMup, mup.AbstractEmbeddingReparam)
    assert issubclass(mup.AbstractLinearReparam, mup.AbstractReparam)
