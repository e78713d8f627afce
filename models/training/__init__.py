"""The generic training driver: Ray Train `TorchTrainer` over WebDataset shards for any model family.

Modules: `settings` (the shared dataclass every family config extends), `family` (the protocol a family
implements and the name -> family registry), `data` (shard streams split per rank and loader worker),
`optimization` (optimizer, precision, accumulation, clipping), `ema`, `early_stopping`, `checkpoints`
(safetensors folders, resume, best-k), `worker_loop` (what each Ray worker runs), `progress` and `run_log`
(progress bar, metrics.jsonl, loss.png) and `driver` (`train(...)`, the entry point).
"""
