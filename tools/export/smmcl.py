#!/usr/bin/python3
"""Export SMMCL (supervised multi-modal contrastive learning for RGB-X semantic segmentation in the dark,
github.com/palmdong/SMMCL, SMMCL_LLRGBD) to a Loupe model package.

Architecture (models/builder.py there, config.py: backbone mscan_b, decoder LightHamHead, 512-d):
  backbone     dual SegNeXt MSCAN-B: one stem + 4 stages (dims 64/128/320/512, depths 3/3/12/3, multi-scale
               strip-convolution attention) for RGB and a twin for the X modality (depth/thermal); after
               every stage a CrossModu block exchanges spatial and channel gates between the two streams
               and a 1x1 FusionConv merges them
  decode_head  LightHamHead: stages 2-4 resized to 1/8 and concatenated, squeeze (1x1 conv+GN+ReLU),
               Hamburger (1x1 conv, NMF2D matrix decomposition, 1x1 conv, residual), align, 1x1 classifier
  output       class logits upsampled (bilinear) to the input size
The package takes ONE tensor with 6 channels, RGB then X (a single-channel X such as depth replicated to
three channels, as SMMCL's dataset does), each scaled to [0, 1] and normalised with ImageNet mean/std,
in windows of 480x640 (SMMCL evaluates with a 480x640 sliding window, stride 2/3).

The NMF2D fix. SMMCL's NMF2D (from HamNet) draws new random bases with torch.rand(...).cuda() on every
forward call (RAND_INIT=True): outputs differ from run to run and the module only runs on CUDA. The export
replaces the draw with a fixed buffer 'bases' (the name HamNet uses with RAND_INIT=False): taken from the
checkpoint when it has one, otherwise drawn once from a seeded generator (--nmf-seed, default 0) and
normalised exactly as HamNet does (uniform [0, 1), L2 over D). The exported model is then deterministic
and device-agnostic; because the seven NMF iterations start from these bases instead of fresh random ones,
its logits differ slightly from any single run of the original, which itself differs between runs.

The official checkpoint (log_LLRGBD_mscan_b/.../epoch-*.pth) is Engine.save_checkpoint's
{"model": state dict without 'module.', "optimizer": ..., "epoch": ...}; the training-only projectors and
the loss modules are skipped.

Examples:
  tools/export/smmcl.py --checkpoint epoch-last.pth --out ~/.local/share/loupe/models/smmcl-llrgbd
  tools/export/smmcl.py --random --seed 0 --small --out /tmp/smmcl --reference /tmp/smmcl-ref
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
LLRGBD_CLASSES = ["void", "bed", "books", "ceiling", "chair", "floor", "furniture", "objects", "painting",
                  "sofa", "table", "tv", "wall", "window"]
CITATION = ("SMMCL: supervised multi-modal contrastive learning for semantic segmentation of dark RGB + X "
            "(depth/thermal) scenes; see github.com/palmdong/SMMCL for the paper reference")


# ----------------------------------------------------------------------------------------------------------
# MSCAN (SegNeXt) building blocks; names follow SMMCL's models/encoders/dual_segnext.py


class StemConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(cin, cout // 2, 3, 2, 1), nn.BatchNorm2d(cout // 2), nn.GELU(),
                                  nn.Conv2d(cout // 2, cout, 3, 2, 1), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.proj(x)


class OverlapPatchEmbed(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, 3, 2, 1)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.norm(self.proj(x))


class AttentionModule(nn.Module):
    """Multi-scale convolutional attention: a 5x5 depth-wise conv, then 7/11/21 strip convolutions."""

    def __init__(self, dim):
        super().__init__()
        self.conv0 = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        for name, k in (("0", 7), ("1", 11), ("2", 21)):
            setattr(self, f"conv{name}_1", nn.Conv2d(dim, dim, (1, k), padding=(0, k // 2), groups=dim))
            setattr(self, f"conv{name}_2", nn.Conv2d(dim, dim, (k, 1), padding=(k // 2, 0), groups=dim))
        self.conv3 = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        attn = self.conv0(x)
        a0 = self.conv0_2(self.conv0_1(attn))
        a1 = self.conv1_2(self.conv1_1(attn))
        a2 = self.conv2_2(self.conv2_1(attn))
        return self.conv3(attn + a0 + a1 + a2) * x


class SpatialAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj_1 = nn.Conv2d(dim, dim, 1)
        self.activation = nn.GELU()
        self.spatial_gating_unit = AttentionModule(dim)
        self.proj_2 = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        return self.proj_2(self.spatial_gating_unit(self.activation(self.proj_1(x)))) + x


class DWConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x):
        return self.dwconv(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.dwconv = DWConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        return self.fc2(self.act(self.dwconv(self.fc1(x))))


class Block(nn.Module):
    """MSCAN block on an NCHW map (SMMCL passes tokens and reshapes; the arithmetic is the same)."""

    def __init__(self, dim, mlp_ratio):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(dim)
        self.attn = SpatialAttention(dim)
        self.norm2 = nn.BatchNorm2d(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.layer_scale_1 = nn.Parameter(1e-2 * torch.ones(dim))
        self.layer_scale_2 = nn.Parameter(1e-2 * torch.ones(dim))

    def forward(self, x):
        x = x + self.layer_scale_1[:, None, None] * self.attn(self.norm1(x))
        return x + self.layer_scale_2[:, None, None] * self.mlp(self.norm2(x))


class SpatialCoes(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(2 * dim, 2 * dim, 1), nn.GELU(), nn.Conv2d(2 * dim, 2 * dim, 1),
                                    nn.GELU(), nn.Conv2d(2 * dim, 1, 1), nn.Sigmoid())

    def forward(self, x, y):
        return self.encode(torch.cat((x, y), dim=1))


class ChannelCoes(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(4 * dim, 4 * dim, 1), nn.GELU(), nn.Conv2d(4 * dim, 4 * dim, 1),
                                    nn.GELU(), nn.Conv2d(4 * dim, dim, 1), nn.Sigmoid())

    def forward(self, x, y):
        xy = torch.cat((x, y), dim=1)
        pooled = torch.cat((F.adaptive_avg_pool2d(xy, 1), F.adaptive_max_pool2d(xy, 1)), dim=1)
        return self.encode(pooled)


class CrossModu(nn.Module):
    """Each stream gets the other one gated by shared spatial and channel coefficients (factor 0.5)."""

    def __init__(self, dim, s=0.5, c=0.5):
        super().__init__()
        self.s, self.c = s, c
        self.Spatial = SpatialCoes(dim)
        self.Channel = ChannelCoes(dim)

    def forward(self, color, other):
        sp = self.Spatial(color, other)
        ch = self.Channel(color, other)
        return (color + other * sp * self.s + other * ch * self.c,
                other + color * sp * self.s + color * ch * self.c)


class FusionConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.fusion_conv = nn.Sequential(nn.Conv2d(cin, cout, 1, 1, 0))

    def forward(self, x, y):
        return self.fusion_conv(torch.cat([x, y], dim=1))


class DualMSCAN(nn.Module):
    def __init__(self, dims=(64, 128, 320, 512), depths=(3, 3, 12, 3), mlp_ratios=(8, 8, 4, 4)):
        super().__init__()
        self.num_stages = len(dims)
        for i, (d, n, r) in enumerate(zip(dims, depths, mlp_ratios)):
            for suffix in ("", "_other"):
                embed = StemConv(3, d) if i == 0 else OverlapPatchEmbed(dims[i - 1], d)
                setattr(self, f"patch_embed{suffix}{i + 1}", embed)
                setattr(self, f"block{suffix}{i + 1}", nn.ModuleList([Block(d, r) for _ in range(n)]))
                setattr(self, f"norm{suffix}{i + 1}", nn.LayerNorm(d))
            setattr(self, f"module{i + 1}", CrossModu(d))
            setattr(self, f"fconv{i + 1}", FusionConv(2 * d, d))

    @staticmethod
    def _channel_norm(norm, x):
        # SMMCL: LayerNorm over the channels of the (B, N, C) tokens, then back to NCHW
        return norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).contiguous()

    def forward(self, color, other):
        outs = []
        for i in range(self.num_stages):
            color = getattr(self, f"patch_embed{i + 1}")(color)
            other = getattr(self, f"patch_embed_other{i + 1}")(other)
            for blk in getattr(self, f"block{i + 1}"):
                color = blk(color)
            for blk in getattr(self, f"block_other{i + 1}"):
                other = blk(other)
            color = self._channel_norm(getattr(self, f"norm{i + 1}"), color)
            other = self._channel_norm(getattr(self, f"norm_other{i + 1}"), other)
            color, other = getattr(self, f"module{i + 1}")(color, other)
            outs.append(getattr(self, f"fconv{i + 1}")(color, other))
        return outs


# ----------------------------------------------------------------------------------------------------------
# LightHamHead with the deterministic NMF2D


class ConvModule(nn.Module):
    """mmcv's ConvModule as LightHamHead builds it: conv (bias only without norm), GroupNorm 'gn', ReLU."""

    def __init__(self, cin, cout, norm=True, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=not norm)
        self.gn = nn.GroupNorm(32, cout) if norm else None
        self.act = nn.ReLU(inplace=True) if act else None

    def forward(self, x):
        x = self.conv(x)
        if self.gn is not None:
            x = self.gn(x)
        if self.act is not None:
            x = self.act(x)
        return x


class NMF2D(nn.Module):
    """Non-negative matrix factorisation of the (D x N) feature matrix with R bases, 7 multiplicative
    updates (HamNet's eval steps), then the reconstruction. Bases: the fixed buffer (see the module doc)."""

    def __init__(self, channels, S=1, R=64, steps=7, seed=0):
        super().__init__()
        self.S, self.R, self.steps = S, R, steps
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("bases", F.normalize(torch.rand((S, channels // S, R), generator=g), dim=1))

    @staticmethod
    def _update_coef(x, bases, coef):
        numerator = torch.bmm(x.transpose(1, 2), bases)
        denominator = coef.bmm(bases.transpose(1, 2).bmm(bases))
        return coef * numerator / (denominator + 1e-6)

    def forward(self, x):
        b, c, h, w = x.shape
        x = x.reshape(b * self.S, c // self.S, h * w)
        bases = self.bases.repeat(b, 1, 1)
        coef = F.softmax(torch.bmm(x.transpose(1, 2), bases), dim=-1)  # inv_t = 1 for NMF2D
        for _ in range(self.steps):
            coef = self._update_coef(x, bases, coef)
            numerator = torch.bmm(x, coef)
            denominator = bases.bmm(coef.transpose(1, 2).bmm(coef))
            bases = bases * numerator / (denominator + 1e-6)
        coef = self._update_coef(x, bases, coef)
        return torch.bmm(bases, coef.transpose(1, 2)).reshape(b, c, h, w)


class Hamburger(nn.Module):
    def __init__(self, channels, R, seed):
        super().__init__()
        self.ham_in = ConvModule(channels, channels, norm=False, act=False)
        self.ham = NMF2D(channels, R=R, seed=seed)
        self.ham_out = ConvModule(channels, channels, norm=False, act=False)

    def forward(self, x):
        y = self.ham_out(self.ham(F.relu(self.ham_in(x))))
        return F.relu(x + y)


class LightHamHead(nn.Module):
    def __init__(self, in_channels, channels, num_classes, R, seed):
        super().__init__()
        self.squeeze = ConvModule(sum(in_channels), channels)
        self.hamburger = Hamburger(channels, R, seed)
        self.align = ConvModule(channels, channels)
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)

    def forward(self, feats):
        size = (feats[0].shape[2], feats[0].shape[3])
        x = torch.cat([F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in feats], dim=1)
        return self.conv_seg(self.align(self.hamburger(self.squeeze(x))))


class SMMCLSegmenter(nn.Module):
    """EncoderDecoder.encode_decode for one 6-channel tensor (RGB, then X)."""

    def __init__(self, small=False, num_classes=14, nmf_seed=0):
        super().__init__()
        if small:
            dims, depths, embed, R = (16, 32, 48, 64), (1, 1, 1, 1), 64, 8
        else:
            dims, depths, embed, R = (64, 128, 320, 512), (3, 3, 12, 3), 512, 64
        self.backbone = DualMSCAN(dims, depths)
        self.decode_head = LightHamHead(list(dims[1:]), embed, num_classes, R, nmf_seed)

    def forward(self, x):
        outs = self.backbone(x[:, :3], x[:, 3:])
        out = self.decode_head(outs[1:])  # in_index [1, 2, 3]
        return F.interpolate(out, size=(x.shape[2], x.shape[3]), mode="bilinear", align_corners=False)


NMF_BASES_KEY = "decode_head.hamburger.ham.bases"


def main(argv=None):
    parser = common.make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--nmf-seed", type=int, default=0,
                        help="seed of the fixed NMF2D bases when the checkpoint has none (0)")
    parser.add_argument("--task", default="segmentation.rgbx", help="Loupe task id (segmentation.rgbx)")
    args = parser.parse_args(argv)
    common.check_source_args(args, parser)

    torch.manual_seed(args.seed)
    model = SMMCLSegmenter(small=args.small, nmf_seed=args.nmf_seed)
    height, width = (96, 128) if args.small else (480, 640)
    if args.random:
        common.calibrate_batch_norm(model, lambda: torch.randn(2, 6, height, width))
    else:
        sd = common.state_dict_of(common.load_checkpoint(args.checkpoint))
        sd = common.select(sd, drop=("backbone.projector_", "smmcl_loss.", "criterion."))
        if NMF_BASES_KEY in sd:
            print("NMF2D: using the bases stored in the checkpoint")
        else:
            sd[NMF_BASES_KEY] = model.state_dict()[NMF_BASES_KEY]
            print(f"NMF2D: the checkpoint has no fixed bases (trained with RAND_INIT); using seeded ones "
                  f"(--nmf-seed {args.nmf_seed})")
        common.load_strict(model, sd, "SMMCL")
    model.eval()
    if args.save_upstream_checkpoint:
        sd = {k: v for k, v in model.state_dict().items() if k != NMF_BASES_KEY}  # RAND_INIT: no buffer
        sd["backbone.projector_color.project.0.weight"] = torch.zeros(4, 4, 1, 1)  # training-only parts
        common.save_checkpoint(args.save_upstream_checkpoint, {"model": sd, "epoch": 1, "iteration": 0})

    g = torch.Generator().manual_seed(args.seed + 1)
    example = torch.randn(1, 6, height, width, generator=g)
    check = torch.randn(1, 6, height, width, generator=g)
    module = common.export_module(model, example, freeze=not args.no_freeze, check_input=check)
    # Determinism, the point of the NMF2D fix: the same input gives the same output, call after call.
    with torch.no_grad():
        a, b = module(example), module(example)
    if not torch.equal(a, b):
        common.fail("the exported model is not deterministic")

    classes = len(LLRGBD_CLASSES)
    manifest = common.write_package(
        args.out, module,
        id=args.id or ("smmcl-mscan-b-small" if args.small else "smmcl-mscan-b-llrgbd"),
        name="SMMCL dual SegNeXt-B + LightHamHead (RGB + X segmentation)",
        version=args.version,
        task=args.task,
        input_spec={"layout": "NCHW", "channels": 6, "color_order": "any", "dtype": "float32",
                    "size": {"policy": "sliding_window", "width": width, "height": height, "overlap": 1.0 / 3.0},
                    "scale": 1.0 / 255.0, "mean": IMAGENET_MEAN * 2, "std": IMAGENET_STD * 2},
        outputs=[{"name": "logits", "kind": "logits", "shape": [1, classes, height, width]}],
        labels=LLRGBD_CLASSES,
        precisions=["float32"],
        licence=args.licence or ("CC0-1.0 (random weights)" if args.random else
                                 "unspecified: github.com/palmdong/SMMCL has no licence file; ask the authors"),
        citation=CITATION,
        provenance=common.provenance_text("smmcl.py", args, "github.com/palmdong/SMMCL SMMCL_LLRGBD/models",
                                          f"NMF2D bases fixed (seed {args.nmf_seed} unless from the checkpoint)"),
        description="Input: RGB (channels 0-2) and the X modality replicated to 3 channels (3-5). Output: "
                    "per-pixel class logits for the LLRGBD classes.",
    )
    if args.reference:
        common.write_reference(args.reference, args.out, manifest, example, args.seed, image_size=None)


if __name__ == "__main__":
    main()
