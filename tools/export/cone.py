#!/usr/bin/python3
"""Export CoNe (Zheng et al., "CoNe: Contrast Your Neighbours for Supervised Image Classification",
github.com/mingkai-zheng/CoNe) to a Loupe model package.

Architecture (network/backbone.py there, as trained by script/train.sh: --layers 1 --use_bn):
  net   ResNet-50 (torchvision layout, no fc) -> 2048-d pooled feature
  head  ProjectionHead: Linear(2048, 4096) - BatchNorm1d - ReLU - Linear(4096, 256)   (keys head.head.0/1/3)
  fc    Linear(256, 1000): the ImageNet classifier sits on the 256-d embedding
The package returns both: "embedding" (256-d, L2-normalised as CoNe's contrastive losses see it) and
"logits" (1000 ImageNet classes, labels included). Evaluation preprocessing in CoNe is Resize(256) +
CenterCrop(224) + ImageNet mean/std; the package declares a fixed 224x224 input with that mean/std.

The official checkpoint (100ep-ResNet50-CoNe.tar) is the training state {"model": DDP state dict, ...};
the query encoder (module.encoder_q.*) is exported, as CoNe's own evaluation does. --encoder k picks the
momentum encoder instead.

Examples:
  tools/export/cone.py --checkpoint 100ep-ResNet50-CoNe.tar --out ~/.local/share/loupe/models/cone-r50
  tools/export/cone.py --random --seed 0 --small --out /tmp/cone --reference /tmp/cone-ref
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import Bottleneck, ResNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CITATION = ("M. Zheng, S. You, L. Huang, X. Su, F. Wang, C. Qian, X. Wang, C. Xu: CoNe: Contrast Your "
            "Neighbours for Supervised Image Classification. arXiv:2308.10761, 2023")


class ProjectionHead(nn.Module):
    """CoNe's projection head: num_layers hidden Linear(-BN)-ReLU layers, then Linear to dim_out."""

    def __init__(self, dim_in, hidden, dim_out, num_layers=1, use_bn=True):
        super().__init__()
        layers = []
        width = dim_in
        for _ in range(num_layers):
            layers.append(nn.Linear(width, hidden))
            if use_bn:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.ReLU(inplace=True))
            width = hidden
        layers.append(nn.Linear(width, dim_out))
        self.head = nn.Sequential(*layers)

    def forward(self, x):
        return self.head(x)


class ConeEncoder(nn.Module):
    """One CoNe encoder (BackBone in the official code): keys net.*, head.head.*, fc.*."""

    def __init__(self, small=False, dim=256, num_classes=1000, num_layers=1, use_bn=True):
        super().__init__()
        if small:
            # Same block type and stage structure, one block per stage and a quarter of the bottleneck width.
            self.net = ResNet(Bottleneck, [1, 1, 1, 1], width_per_group=16)
            hidden = 256
        else:
            self.net = ResNet(Bottleneck, [3, 4, 6, 3])  # torchvision's resnet50 layout
            hidden = max(2 * 2048, 4096)                  # CoNe: max(2 * dim_in, 4096)
        self.net.fc = nn.Identity()                       # CoNe's ResNet has no fc; keys stay net.conv1 ...
        self.head = ProjectionHead(2048, hidden, dim, num_layers, use_bn)
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x):
        feat = self.net(x)
        embedding = self.head(feat)
        logits = self.fc(embedding)
        return F.normalize(embedding, dim=1), logits


def imagenet_labels():
    from torchvision.models import ResNet50_Weights
    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])


def main(argv=None):
    parser = common.make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", choices=["q", "k"], default="q",
                        help="which CoNe encoder to export: q (query, used for evaluation) or k (momentum)")
    parser.add_argument("--task", default="embeddings.embed", help="Loupe task id (embeddings.embed)")
    args = parser.parse_args(argv)
    common.check_source_args(args, parser)

    torch.manual_seed(args.seed)
    num_classes = 10 if args.small else 1000
    model = ConeEncoder(small=args.small, num_classes=num_classes)
    size = 224
    if args.random:
        common.calibrate_batch_norm(model, lambda: torch.randn(4, 3, size, size))
    else:
        sd = common.state_dict_of(common.load_checkpoint(args.checkpoint))
        prefix = f"encoder_{args.encoder}."
        if not any(k.replace("module.", "", 1).startswith(prefix) for k in sd):
            prefix = ""  # a bare encoder's state dict (net./head./fc.)
        common.load_strict(model, common.select(sd, keep_prefix=prefix), "CoNe encoder")
    model.eval()
    if args.save_upstream_checkpoint:
        # CoNe's training state: {"model": DistributedDataParallel state dict of CoNe, ...}; the momentum
        # encoder and the queue are there too (the export ignores them).
        sd = {f"module.encoder_q.{k}": v for k, v in model.state_dict().items()}
        sd.update({f"module.encoder_k.{k}": v.clone() for k, v in model.state_dict().items()})
        sd["module.queue"] = torch.zeros(256, 8)
        sd["module.queue_ptr"] = torch.zeros(1, dtype=torch.long)
        common.save_checkpoint(args.save_upstream_checkpoint, {"model": sd, "epoch": 100})

    example = common.reference_input((1, 3, size, size), args.seed)
    check = common.reference_input((1, 3, size, size), args.seed + 100)
    module = common.export_module(model, example, freeze=not args.no_freeze, check_input=check)

    labels = imagenet_labels() if num_classes == 1000 else [f"class {i}" for i in range(num_classes)]
    manifest = common.write_package(
        args.out, module,
        id=args.id or ("cone-resnet50-small" if args.small else "cone-resnet50"),
        name="CoNe ResNet-50 (256-d embedding + ImageNet classifier)",
        version=args.version,
        task=args.task,
        input_spec=common.image_input(size=("fixed", size, size), mean=IMAGENET_MEAN, std=IMAGENET_STD),
        outputs=[{"name": "embedding", "kind": "embedding", "shape": [1, 256]},
                 {"name": "logits", "kind": "logits", "shape": [1, num_classes]}],
        labels=labels,
        precisions=["float32", "float16"],
        licence=args.licence or ("CC0-1.0 (random weights)" if args.random else
                                 "unspecified: github.com/mingkai-zheng/CoNe has no licence file; ask the authors"),
        citation=CITATION,
        provenance=common.provenance_text("cone.py", args, "github.com/mingkai-zheng/CoNe network/backbone.py",
                                          f"encoder_{args.encoder}" if not args.random else ""),
        description="CoNe eval preprocessing is Resize(256) + CenterCrop(224); Loupe resizes the whole "
                    "image to 224x224 unless the caller crops first.",
    )
    if args.reference:
        common.write_reference(args.reference, args.out, manifest, example, args.seed)


if __name__ == "__main__":
    main()
