def test_placeholder():
    import torch, transformers
    print(torch.__version__, transformers.__version__)
