"""Model pairs built from configs: Hugging Face transformers against mindcv (both sides written by others) and against
a hand-written MindSpore Llama port. Install the `ports` extra."""
