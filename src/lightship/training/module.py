"""The LightningModule: loss, metrics, optimiser and schedule around a pixels-in Classifier."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from lightship.models import ModelMeta
from lightship.training.config import OptimConfig
from lightship.training.muon import MuonSGD
from lightship.training.tta import tta_logits

_NORM_LAYERS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


class ClassifierModule(L.LightningModule):
    """Trains ``meta.build()``; batches are ``(uint8 NHWC pixels, int64 labels)``.

    ``hyper_parameters["lightship"]`` holds the :class:`ModelMeta` as plain types: that is what lets
    :func:`~lightship.training.checkpoint.load_classifier` rebuild the model from the checkpoint alone.

    Fine-tuning: ``head`` names the network's head tensors (the rest is the backbone). With
    ``freeze_backbone=E`` the backbone neither learns nor updates its BatchNorm statistics in the first E
    epochs, so the fresh head first learns on the pretrained features; ``optim.backbone_lr_scale`` then
    scales the backbone's learning rate.
    """

    def __init__(
        self,
        lightship: dict[str, Any],
        optim: dict[str, Any],
        tta: int = 0,
        head: list[str] | None = None,
        freeze_backbone: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.meta = ModelMeta(**lightship)
        self.optim = OptimConfig(**optim)
        self.model = self.meta.build()
        head_names = set(head or [])
        self._backbone = [p for name, p in self.model.net.named_parameters() if name not in head_names]
        backbone_ids = {id(p) for p in self._backbone}
        self._backbone_norms = [
            m
            for m in self.model.net.modules()
            if isinstance(m, nn.modules.batchnorm._NormBase)
            and all(id(p) in backbone_ids for p in m.parameters(recurse=False))
        ]
        self._frozen: list[nn.Parameter] = []
        self.criterion = nn.CrossEntropyLoss(label_smoothing=self.optim.label_smoothing)
        n = self.meta.num_classes
        self.train_acc = MulticlassAccuracy(n, average="micro")
        self.val_acc = MulticlassAccuracy(n, average="micro")
        self.test_acc = MulticlassAccuracy(n, average="micro")
        self.test_acc_plain = MulticlassAccuracy(n, average="micro")

    @classmethod
    def create(
        cls,
        meta: ModelMeta,
        optim: OptimConfig,
        tta: int = 0,
        head: list[str] | None = None,
        freeze_backbone: int = 0,
    ) -> ClassifierModule:
        return cls(
            lightship=meta.portable(),
            optim=asdict(optim),
            tta=tta,
            head=head,
            freeze_backbone=freeze_backbone,
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(pixels)

    @torch.no_grad()
    def data_init(self, pixels: torch.Tensor) -> None:
        """Data-dependent initialisation (airbench's whitening conv) from a sample of training pixels."""
        init = getattr(self.model.net, "init_from_data", None)
        if init is not None:
            init(self.model.preprocess(pixels))

    def _freeze_backbone(self, frozen: bool) -> None:
        """Stop (or restart) the backbone's learning; only parameters this froze are thawed again."""
        if frozen and not self._frozen:
            self._frozen = [p for p in self._backbone if p.requires_grad]
            for p in self._frozen:
                p.requires_grad_(False)
        elif not frozen and self._frozen:
            for p in self._frozen:
                p.requires_grad_(True)
            self._frozen = []
        self.train(self.training)

    def train(self, mode: bool = True) -> ClassifierModule:
        """Lightning calls this around every validation; a frozen backbone's BatchNorm stays in eval mode."""
        super().train(mode)
        if mode and getattr(self, "_frozen", None):
            for norm in self._backbone_norms:
                norm.eval()
        return self

    def on_train_epoch_start(self) -> None:
        self._freeze_backbone(self.current_epoch < self.hparams.freeze_backbone)
        set_epoch = getattr(self.model.net, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(self.current_epoch)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        pixels, labels = batch
        logits = self(pixels)
        loss = self.criterion(logits, labels)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"loss is {loss.item()} at global step {self.global_step} (epoch {self.current_epoch}, batch "
                f"{batch_idx}); lower --optim.lr or try --trainer.detect_anomaly true."
            )
        self.train_acc(logits, labels)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(labels))
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True, batch_size=len(labels))
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        pixels, labels = batch
        logits = self(pixels)
        self.val_acc(logits, labels)
        n = len(labels)
        self.log("val/loss", self.criterion(logits, labels), on_epoch=True, sync_dist=True, batch_size=n)
        self.log("val/acc", self.val_acc, on_epoch=True, prog_bar=True, batch_size=n)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        pixels, labels = batch
        x = self.model.preprocess(pixels)
        logits = self.model.net(x)
        self.test_acc_plain(logits, labels)
        if self.hparams.tta:
            logits = tta_logits(self.model.net, x, self.hparams.tta, plain=logits)
        self.test_acc(logits, labels)
        self.log("test/acc", self.test_acc, on_epoch=True, batch_size=len(labels))
        self.log("test/acc_no_tta", self.test_acc_plain, on_epoch=True, batch_size=len(labels))

    def configure_optimizers(self) -> dict[str, Any]:
        cfg = self.optim
        opt = build_optimizer(
            self.model, cfg, backbone={id(p) for p in self._backbone} if self.hparams.head else None
        )
        total = max(1, int(self.trainer.estimated_stepping_batches))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(cfg, step, total))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def build_optimizer(
    model: nn.Module, cfg: OptimConfig, backbone: set[int] | None = None
) -> torch.optim.Optimizer:
    """The optimiser of ``cfg`` over ``model``'s trainable parameters, grouped for the record recipes:
    normalisation parameters (with Muon: all 1-D parameters) at ``lr x norm_lr_scale``, conv filters on
    Muon when asked, the rest at ``lr``. Parameters whose ``id`` is in ``backbone`` (fine-tuning) get their
    group's learning rate times ``backbone_lr_scale``."""
    norm_ids = {id(p) for m in model.modules() if isinstance(m, _NORM_LAYERS) for p in m.parameters()}
    muon = cfg.optimizer == "muon"
    # Parameters a model freezes later (airbench's whitening bias) still require grad here, at build time.
    trainable = [p for p in model.parameters() if p.requires_grad]
    filters = [p for p in trainable if muon and p.ndim == 4]
    norm = [p for p in trainable if id(p) in norm_ids or (muon and p.ndim == 1)]
    taken = {id(p) for p in filters + norm}
    other = [p for p in trainable if id(p) not in taken]
    scale = cfg.norm_lr_scale
    groups = [
        {"params": norm, "lr": cfg.lr * scale, "weight_decay": cfg.weight_decay / scale},
        {"params": other, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
    ]
    if muon:
        groups.append({"params": filters, "lr": cfg.muon_lr, "momentum": cfg.muon_momentum, "muon": True})
    if backbone is not None and cfg.backbone_lr_scale != 1.0:
        groups = [
            part for group in groups for part in _split_backbone(group, backbone, cfg.backbone_lr_scale)
        ]
    groups = [g for g in groups if g["params"]]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups)
    if muon:
        return MuonSGD(groups, momentum=cfg.momentum)
    return torch.optim.SGD(groups, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0)


def _split_backbone(group: dict[str, Any], backbone: set[int], scale: float) -> list[dict[str, Any]]:
    """``group`` as its head part and its backbone part, the latter at ``scale`` times the learning rate."""
    body = [p for p in group["params"] if id(p) in backbone]
    rest = [p for p in group["params"] if id(p) not in backbone]
    return [{**group, "params": rest}, {**group, "params": body, "lr": group["lr"] * scale}]


def lr_factor(cfg: OptimConfig, step: int, total: int) -> float:
    """Multiplier of the base learning rate at ``step`` of ``total``: warm-up, then linear/cosine decay."""
    warmup = int(total * cfg.warmup_fraction)
    if step < warmup:
        frac = step / warmup
        return cfg.start_factor + (1.0 - cfg.start_factor) * frac
    if cfg.schedule == "constant":
        return 1.0
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    if cfg.schedule == "cosine":
        return cfg.final_factor + (1.0 - cfg.final_factor) * 0.5 * (1 + math.cos(math.pi * frac))
    return 1.0 + (cfg.final_factor - 1.0) * frac
