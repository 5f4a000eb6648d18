#!/usr/bin/python3
"""Export a CLLD backbone (contrastive learning for lane detection, github.com/sabadijou/clld_official)
to a Loupe model package.

CLLD pre-trains a ResNet encoder self-supervised (models/clld.py: base_encoder = ResNetWrapper(...)): the
torchvision ResNet body without pooling and classifier, followed by a dense projection
(1x1 conv 2048->2048, BatchNorm, ReLU, 1x1 conv 2048->256, configs/clld.py latent_dims). The backbone is
then used inside a lane detector. The package returns two per-pixel feature maps at 1/32 resolution:
  "features"  the 256-d projection CLLD's contrastive losses were computed on
  "c5"        the last ResNet stage (2048-d for ResNet-50), what lane detectors build on
Input: RGB scaled to [0, 1] with ImageNet mean/std, any size that is a multiple of 32.

The official checkpoint is the DDP training state {"state_dict": {"module.base_encoder.model.*", ...}};
the momentum encoder and the PPM module are skipped. A torchvision-style state dict (conv1.*, layer1.*,
projection.*) is accepted too.

Examples:
  tools/export/clld.py --checkpoint checkpoint.pth.tar --out ~/.local/share/loupe/models/clld-r50
  tools/export/clld.py --random --seed 0 --small --out /tmp/clld --reference /tmp/clld-ref
"""

import os
import sys

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
ARCHS = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet34": (BasicBlock, [3, 4, 6, 3]),
         "resnet50": (Bottleneck, [3, 4, 6, 3]), "resnet101": (Bottleneck, [3, 4, 23, 3]),
         "resnet152": (Bottleneck, [3, 8, 36, 3])}
CITATION = "CLLD: contrastive learning for lane detection; see github.com/sabadijou/clld_official"


class ClldBody(ResNet):
    """torchvision's ResNet layout (keys conv1, bn1, layer1-4) plus CLLD's dense projection."""

    def __init__(self, block, layers, dim1=2048, dim2=256, width_per_group=64):
        super().__init__(block, layers, width_per_group=width_per_group)
        del self.fc
        self.projection = nn.Sequential(nn.Conv2d(512 * block.expansion, dim1, 1), nn.BatchNorm2d(dim1),
                                        nn.ReLU(inplace=True), nn.Conv2d(dim1, dim2, 1))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c5 = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.projection(c5), c5


class ClldEncoder(nn.Module):
    """ResNetWrapper: the body sits under 'model' (base_encoder.model.* in CLLD's checkpoints)."""

    def __init__(self, arch="resnet50", small=False):
        super().__init__()
        block, layers = ARCHS[arch]
        if small:
            self.model = ClldBody(Bottleneck, [1, 1, 1, 1], dim1=256, dim2=64, width_per_group=16)
        else:
            self.model = ClldBody(block, layers)

    def forward(self, x):
        return self.model(x)


def main(argv=None):
    parser = common.make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHS), default="resnet50", help="ResNet depth (resnet50)")
    parser.add_argument("--task", default="lanes.backbone", help="Loupe task id (lanes.backbone)")
    parser.add_argument("--onnx", metavar="DIR", help="also write the same network as an ONNX package (OpenCV DNN) into DIR")
    args = parser.parse_args(argv)
    common.check_source_args(args, parser)

    torch.manual_seed(args.seed)
    model = ClldEncoder(args.arch, args.small)
    size = 128 if args.small else 320
    if args.random:
        common.calibrate_batch_norm(model, lambda: torch.randn(4, 3, size, size))
    else:
        sd = common.state_dict_of(common.load_checkpoint(args.checkpoint))
        stripped = common.select(sd)
        if any(k.startswith("base_encoder.") for k in stripped):
            stripped = common.select(stripped, keep_prefix="base_encoder.", strip=())
        if not any(k.startswith("model.") for k in stripped):
            stripped = {"model." + k: v for k, v in stripped.items() if not k.startswith("fc.")}
        common.load_strict(model, stripped, "CLLD encoder")
    model.eval()
    if args.save_upstream_checkpoint:
        sd = {f"module.base_encoder.{k}": v for k, v in model.state_dict().items()}
        sd.update({f"module.moment_encoder.{k}": v.clone() for k, v in model.state_dict().items()})
        sd["module.ppm_module.linear.weight"] = torch.zeros(256, 256, 1, 1)
        common.save_checkpoint(args.save_upstream_checkpoint, {"state_dict": sd, "epoch": 100})

    g = torch.Generator().manual_seed(args.seed + 1)
    example = torch.randn(1, 3, size, size, generator=g)
    check = torch.randn(1, 3, size, size, generator=g)
    module = common.export_module(model, example, freeze=not args.no_freeze, check_input=check)
    with torch.no_grad():
        feats, c5 = module(example)
    manifest = common.write_package(
        args.out, module,
        id=args.id or ("clld-small" if args.small else f"clld-{args.arch}"),
        name=f"CLLD {args.arch} lane-detection backbone" if not args.small else "CLLD reduced backbone",
        version=args.version,
        task=args.task,
        input_spec=common.image_input(size=("multiple_of", 32), mean=IMAGENET_MEAN, std=IMAGENET_STD),
        outputs=[{"name": "features", "kind": "per_pixel_features", "shape": [1, feats.shape[1], -1, -1]},
                 {"name": "c5", "kind": "per_pixel_features", "shape": [1, c5.shape[1], -1, -1]}],
        precisions=["float32", "float16"],
        licence=args.licence or ("CC0-1.0 (random weights)" if args.random else
                                 "unspecified: github.com/sabadijou/clld_official has no licence file; ask the authors"),
        citation=CITATION,
        provenance=common.provenance_text("clld.py", args, "github.com/sabadijou/clld_official models/resnet.py",
                                          f"arch {args.arch}" if not args.small else ""),
        description="Dense features at 1/32 resolution: CLLD's 256-d projection and the last ResNet stage.",
    )
    if args.onnx:
        common.write_onnx_package(args.onnx, model, example, manifest)
    if args.reference:
        common.write_reference(args.reference, args.out, manifest, example, args.seed)  # 300x200: padded


if __name__ == "__main__":
    main()
