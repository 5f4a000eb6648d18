#!/usr/bin/python3
"""Export FOCAL's forensic feature extractors (Wu et al., "Rethinking Image Forgery Detection via Soft
Contrastive Learning and Unsupervised Clustering", github.com/HighwayWu/FOCAL) to a Loupe model package.

FOCAL maps an image, resized to 1024x1024 and scaled to [0, 1] (no mean/std), to per-pixel features that are
clustered (k-means, cosine, k=2) into pristine and forged regions. Two extractors were trained:
  vit     the Segment Anything ViT-L image encoder (models/vit.py: sam_model_registry['vit_l']().image_encoder):
          16x16 patches, 24 blocks of width 1024 with 16 heads, 14x14 windowed attention except blocks
          5/11/17/23 (global), decomposed relative positions, a conv neck to 256 channels -> 256 x 64 x 64
  hrnet   HRNet-W32 (models/hrnet.py) -> the highest-resolution branch, 32 x 256 x 256 (1/4)
  fusion  FOCAL's feature-level fusion without retraining: ViT features, HRNet features resized (nearest)
          to the ViT's 64x64, each L2-normalised per pixel, concatenated -> 288 x 64 x 64
The package returns "features" [1, C, h, w] (per_pixel_features, L2-normalised per network as FOCAL does
before clustering); Loupe's forgery task does the clustering.

The official weights are FOCAL_ViT_weights.pth and FOCAL_HRNet_weights.pth: DataParallel state dicts of
FOCAL_ViT / FOCAL_HRNet (keys module.net.image_encoder.* / module.net.*); the SAM prompt encoder and mask
decoder and HRNet's unused final_layer are skipped, everything else must match.

Examples:
  tools/export/focal.py --backbone fusion --checkpoint FOCAL_ViT_weights.pth \\
      --hrnet-checkpoint FOCAL_HRNet_weights.pth --out ~/.local/share/loupe/models/focal-fusion
  tools/export/focal.py --backbone hrnet --checkpoint FOCAL_HRNet_weights.pth --out focal-hrnet
  tools/export/focal.py --random --seed 0 --small --out /tmp/focal --reference /tmp/focal-ref
"""

import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CITATION = ("H. Wu, Y. Chen, J. Zhou, Y. Li: Rethinking Image Forgery Detection via Soft Contrastive Learning "
            "and Unsupervised Clustering. IEEE Transactions on Dependable and Secure Computing 22(6), "
            "6296-6308, 2025. doi:10.1109/TDSC.2025.3583167")
INPUT_SIZE = 1024


# ----------------------------------------------------------------------------------------------------------
# ViT: the SAM image encoder (ViTDet-style), written after segment_anything/modeling/image_encoder.py.
# Module and parameter names follow it so that its state dicts load unchanged.


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of an NCHW tensor (parameters: weight, bias)."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MLPBlock(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.act = nn.GELU()

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x)))


def relative_table(q_len, k_len, table):
    """Rows of a relative-position table (2 * L - 1, C) for every (query, key) pair: (q_len, k_len, C)."""
    span = 2 * max(q_len, k_len) - 1
    if table.shape[0] != span:  # trained at another resolution: resample linearly along the offsets
        table = F.interpolate(table.t().unsqueeze(0), size=span, mode="linear").squeeze(0).t()
    q = torch.arange(q_len).unsqueeze(1) * max(k_len / q_len, 1.0)
    k = torch.arange(k_len).unsqueeze(0) * max(q_len / k_len, 1.0)
    offsets = (q - k) + (k_len - 1) * max(q_len / k_len, 1.0)
    return table[offsets.long()]


class Attention(nn.Module):
    """Multi-head self-attention over an (B, H, W, C) token grid with decomposed relative positions."""

    def __init__(self, dim, heads, grid):
        super().__init__()
        self.heads = heads
        head_dim = dim // heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)
        self.rel_pos_h = nn.Parameter(torch.zeros(2 * grid[0] - 1, head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(2 * grid[1] - 1, head_dim))

    def forward(self, x):
        b, h, w, c = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, b * self.heads, h * w, c // self.heads).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        rh = relative_table(h, h, self.rel_pos_h)
        rw = relative_table(w, w, self.rel_pos_w)
        rq = q.reshape(b * self.heads, h, w, -1)
        bias_h = torch.einsum("bhwc,hkc->bhwk", rq, rh)
        bias_w = torch.einsum("bhwc,wkc->bhwk", rq, rw)
        attn = (attn.view(b * self.heads, h, w, h, w) + bias_h[:, :, :, :, None] + bias_w[:, :, :, None, :])
        attn = attn.view(b * self.heads, h * w, h * w).softmax(dim=-1)
        out = (attn @ v).view(b, self.heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
        return self.proj(out)


def to_windows(x, size):
    """(B, H, W, C) -> (B * nW, size, size, C), zero-padding H and W up to multiples of `size`."""
    b, h, w, c = x.shape
    ph, pw = (size - h % size) % size, (size - w % size) % size
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
    hp, wp = h + ph, w + pw
    x = x.view(b, hp // size, size, wp // size, size, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, size, size, c), (hp, wp)


def from_windows(windows, size, padded, hw):
    hp, wp = padded
    h, w = hw
    b = windows.shape[0] // ((hp // size) * (wp // size))
    x = windows.view(b, hp // size, wp // size, size, size, -1).permute(0, 1, 3, 2, 4, 5)
    x = x.reshape(b, hp, wp, -1)
    return x[:, :h, :w, :].contiguous()


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, window, grid):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, grid if window == 0 else (window, window))
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio))
        self.window = window

    def forward(self, x):
        shortcut = x
        x = self.norm1(x)
        if self.window > 0:
            h, w = x.shape[1], x.shape[2]
            x, padded = to_windows(x, self.window)
            x = from_windows(self.attn(x), self.window, padded, (h, w))
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).permute(0, 2, 3, 1)


class ImageEncoderViT(nn.Module):
    def __init__(self, dim=1024, depth=24, heads=16, global_blocks=(5, 11, 17, 23), window=14, out_chans=256,
                 img_size=INPUT_SIZE, patch=16, mlp_ratio=4.0):
        super().__init__()
        grid = (img_size // patch, img_size // patch)
        self.patch_embed = PatchEmbed(patch, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid[0], grid[1], dim))
        self.blocks = nn.ModuleList(
            [Block(dim, heads, mlp_ratio, 0 if i in global_blocks else window, grid) for i in range(depth)])
        self.neck = nn.Sequential(
            nn.Conv2d(dim, out_chans, kernel_size=1, bias=False),
            LayerNorm2d(out_chans),
            nn.Conv2d(out_chans, out_chans, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(out_chans),
        )

    def forward(self, x):
        x = self.patch_embed(x) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.neck(x.permute(0, 3, 1, 2))


class SamShell(nn.Module):
    """Holds the image encoder under the attribute name SAM uses (net.image_encoder.* in FOCAL_ViT)."""

    def __init__(self, encoder):
        super().__init__()
        self.image_encoder = encoder


class FocalViT(nn.Module):
    def __init__(self, small=False, img_size=INPUT_SIZE):
        super().__init__()
        if small:
            enc = ImageEncoderViT(dim=32, depth=2, heads=2, global_blocks=(1,), out_chans=64, img_size=img_size)
        else:
            enc = ImageEncoderViT(img_size=img_size)  # vit_l
        self.net = SamShell(enc)

    def forward(self, x):
        return self.net.image_encoder(x)


def init_vit_randomly(vit, seed):
    """SAM initialises positions and relative tables to zero; random weights get small non-zero ones so
    that those code paths are exercised by the tests."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in vit.named_parameters():
            if name.endswith("pos_embed") or "rel_pos_" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            elif name.endswith("weight") and p.dim() == 1 and "neck" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))


# ----------------------------------------------------------------------------------------------------------
# HRNet (Sun et al.), as in FOCAL's models/hrnet.py (the pose-estimation HRNet, W32); names follow it.


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


def conv_bn(cin, cout, k, stride, relu):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def residual_stack(block, inplanes, planes, count, stride=1):
    down = None
    if stride != 1 or inplanes != planes * block.expansion:
        down = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                             nn.BatchNorm2d(planes * block.expansion))
    layers = [block(inplanes, planes, stride, down)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, count)]
    return nn.Sequential(*layers)


class HighResolutionModule(nn.Module):
    """Parallel branches at 1/2^i resolution, then every output branch sums all inputs brought to its
    resolution (1x1 conv + nearest upsampling from coarser, strided 3x3 convs from finer)."""

    def __init__(self, channels, blocks, multi_scale_output=True):
        super().__init__()
        n = len(channels)
        self.branches = nn.ModuleList(
            [residual_stack(BasicBlock, channels[i], channels[i], blocks[i]) for i in range(n)])
        self.fuse_layers = None
        if n > 1:
            fuse = []
            for i in range(n if multi_scale_output else 1):
                row = []
                for j in range(n):
                    if j > i:
                        row.append(nn.Sequential(nn.Conv2d(channels[j], channels[i], 1, 1, 0, bias=False),
                                                 nn.BatchNorm2d(channels[i]),
                                                 nn.Upsample(scale_factor=2 ** (j - i), mode="nearest")))
                    elif j == i:
                        row.append(None)
                    else:
                        steps = [conv_bn(channels[j], channels[i] if s == i - j - 1 else channels[j], 3, 2,
                                         relu=s != i - j - 1) for s in range(i - j)]
                        row.append(nn.Sequential(*steps))
                fuse.append(nn.ModuleList(row))
            self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU(True)

    def forward(self, xs):
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        if self.fuse_layers is None:
            return xs
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, len(xs)):
                y = y + (xs[j] if i == j else row[j](xs[j]))
            out.append(self.relu(y))
        return out


def transition(pre, cur):
    """Channel changes of kept branches (3x3 conv) and new coarser branches (strided 3x3 convs)."""
    layers = []
    for i, c in enumerate(cur):
        if i < len(pre):
            layers.append(conv_bn(pre[i], c, 3, 1, relu=True) if pre[i] != c else None)
        else:
            steps = [conv_bn(pre[-1], c if s == i - len(pre) else pre[-1], 3, 2, relu=True)
                     for s in range(i + 1 - len(pre))]
            layers.append(nn.Sequential(*steps))
    return nn.ModuleList(layers)


class HRNet(nn.Module):
    """Stem (two stride-2 3x3 convs), layer1 (4 bottlenecks), then stages 2-4 with 2, 3, 4 branches;
    returns the highest-resolution branch of the last stage (1/4 of the input)."""

    def __init__(self, width=32, stem=64, layer1_blocks=4, modules=(1, 4, 3), blocks=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.conv2 = nn.Conv2d(stem, stem, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = residual_stack(Bottleneck, stem, stem, layer1_blocks)
        pre = [stem * Bottleneck.expansion]
        stages = []
        for s, count in enumerate(modules):
            branches = s + 2
            cur = [width * 2 ** b for b in range(branches)]
            setattr(self, f"transition{s + 1}", transition(pre, cur))
            mods = [HighResolutionModule(cur, [blocks] * branches,
                                         multi_scale_output=not (s == len(modules) - 1 and m == count - 1))
                    for m in range(count)]
            stages.append(nn.Sequential(*mods))
            pre = cur
        self.stage2, self.stage3, self.stage4 = stages
        self.out_channels = width

    def _next_inputs(self, trans, ys, branches):
        xs = []
        for i in range(branches):
            if trans[i] is not None:
                # As in FOCAL/HRNet: a transition takes the coarsest previous output (for kept branches
                # that only happens when their width changes, which W32 never does).
                xs.append(trans[i](ys[-1]))
            else:
                xs.append(ys[i])
        return xs

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.layer1(x)
        ys = self.stage2(self._next_inputs(self.transition1, [x], 2))
        ys = self.stage3(self._next_inputs(self.transition2, ys, 3))
        ys = self.stage4(self._next_inputs(self.transition3, ys, 4))
        return ys[0]


class FocalHRNet(nn.Module):
    def __init__(self, small=False):
        super().__init__()
        if small:
            self.net = HRNet(width=8, stem=16, layer1_blocks=1, modules=(1, 1, 1), blocks=1)
        else:
            self.net = HRNet()

    def forward(self, x):
        return self.net(x)


# ----------------------------------------------------------------------------------------------------------
# The exported extractor


class FocalExtractor(nn.Module):
    """FOCAL's inference-time feature extraction (FOCAL.process with isTrain=False, before clustering):
    the first network's features set the grid, further networks are resized to it (nearest), each is
    L2-normalised per pixel, and they are concatenated along the channels."""

    def __init__(self, networks, out_stride=None):
        super().__init__()
        self.networks = nn.ModuleList(networks)
        self.out_stride = out_stride

    def forward(self, x):
        first = self.networks[0](x)
        if self.out_stride is not None:
            first = F.interpolate(first, size=(x.shape[2] // self.out_stride, x.shape[3] // self.out_stride))
        feats = [F.normalize(first, dim=1)]
        for net in self.networks[1:]:
            f = F.interpolate(net(x), size=(first.shape[2], first.shape[3]))
            feats.append(F.normalize(f, dim=1))
        return torch.cat(feats, dim=1) if len(feats) > 1 else feats[0]


def build(args):
    torch.manual_seed(args.seed)
    vit = FocalViT(args.small, args.input_size) if args.backbone in ("vit", "fusion") else None
    hrnet = FocalHRNet(args.small) if args.backbone in ("hrnet", "fusion") else None
    if args.random:
        if vit is not None:
            init_vit_randomly(vit, args.seed)
        if hrnet is not None:
            side = 256 if args.small else 512
            common.calibrate_batch_norm(hrnet, lambda: torch.rand(2, 3, side, side))
    else:
        ckpt = {"vit": args.checkpoint if args.backbone != "hrnet" else None,
                "hrnet": args.checkpoint if args.backbone == "hrnet" else args.hrnet_checkpoint}
        if vit is not None:
            sd = common.state_dict_of(common.load_checkpoint(ckpt["vit"]))
            sd = common.select(sd, drop=("net.prompt_encoder.", "net.mask_decoder.", "net.pixel_mean",
                                         "net.pixel_std"))
            common.load_strict(vit, sd, "FOCAL ViT")
        if hrnet is not None:
            sd = common.state_dict_of(common.load_checkpoint(ckpt["hrnet"]))
            sd = common.select(sd, drop=("net.final_layer.",))
            common.load_strict(hrnet, sd, "FOCAL HRNet")
    nets = [m for m in (vit, hrnet) if m is not None]
    for m in nets:
        m.eval()
    return vit, hrnet, FocalExtractor(nets, out_stride=args.hrnet_stride if args.backbone == "hrnet" else None)


def save_upstream(args, vit, hrnet):
    """FOCAL.save(): torch.save(DataParallel(FOCAL_xxx).state_dict()) -> module.net.* keys."""
    base, ext = os.path.splitext(args.save_upstream_checkpoint)
    paths = []
    for name, m in (("ViT", vit), ("HRNet", hrnet)):
        if m is None:
            continue
        sd = {f"module.{k}": v for k, v in m.state_dict().items()}
        if name == "ViT":  # the rest of SAM is in FOCAL's file too; the export must skip it
            sd["module.net.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"] = torch.zeros(2, 128)
            sd["module.net.mask_decoder.iou_token.weight"] = torch.zeros(1, 256)
        else:
            sd["module.net.final_layer.weight"] = torch.zeros(17, 32, 1, 1)
            sd["module.net.final_layer.bias"] = torch.zeros(17)
        path = args.save_upstream_checkpoint if args.backbone != "fusion" else f"{base}-{name.lower()}{ext}"
        common.save_checkpoint(path, sd)
        paths.append(path)
    return paths


def main(argv=None):
    parser = common.make_parser(__doc__.split("\n\n")[0], extra_checkpoints=("hrnet-checkpoint",))
    parser.add_argument("--backbone", choices=["vit", "hrnet", "fusion"], default="fusion",
                        help="which extractor(s): vit, hrnet, or fusion = both concatenated (default)")
    parser.add_argument("--hrnet-stride", type=int, choices=[4, 16], default=4,
                        help="--backbone hrnet only: output grid, 4 = HRNet's own 1/4 (256x256, as FOCAL "
                             "trained it) or 16 = resized to 64x64 like the fused output")
    parser.add_argument("--input-size", type=int, default=INPUT_SIZE,
                        help="square input size, a multiple of 16 (1024: FOCAL's, which its ViT's position "
                             "embeddings need). Tests use 512 with --small to keep global attention cheap")
    parser.add_argument("--task", default="forgery.localize", help="Loupe task id (forgery.localize)")
    args = parser.parse_args(argv)
    needed = ("checkpoint", "hrnet_checkpoint") if args.backbone == "fusion" else ("checkpoint",)
    common.check_source_args(args, parser, needed)
    if args.input_size % 16:
        parser.error("--input-size must be a multiple of 16")
    if args.hrnet_checkpoint and args.backbone != "fusion":
        parser.error("--hrnet-checkpoint is for --backbone fusion (use --checkpoint for a single network)")

    vit, hrnet, model = build(args)
    if args.save_upstream_checkpoint:
        save_upstream(args, vit, hrnet)

    size = args.input_size
    shape = (1, 3, size, size)
    # Images are in [0, 1] here (scale 1/255, no mean/std): the reference input is too.
    g = torch.Generator().manual_seed(args.seed + 1)
    example = torch.rand(*shape, generator=g)
    check = torch.rand(*shape, generator=g)
    module = common.export_module(model, example, freeze=not args.no_freeze, check_input=check)
    with torch.no_grad():
        channels = module(example).shape[1]

    grid = size // (args.hrnet_stride if args.backbone == "hrnet" else 16)
    names = {"vit": "FOCAL ViT-L (SAM encoder) extractor", "hrnet": "FOCAL HRNet-W32 extractor",
             "fusion": "FOCAL ViT-L + HRNet-W32 fused extractor"}
    manifest = common.write_package(
        args.out, module,
        id=args.id or f"focal-{args.backbone}" + ("-small" if args.small else ""),
        name=names[args.backbone],
        version=args.version,
        task=args.task,
        input_spec=common.image_input(size=("fixed", size, size)),  # x / 255, RGB, no mean/std
        outputs=[{"name": "features", "kind": "per_pixel_features", "shape": [1, channels, grid, grid]}],
        precisions=["float32", "float16"],
        licence=args.licence or ("CC0-1.0 (random weights)" if args.random else
                                 "MIT (github.com/HighwayWu/FOCAL); ViT part derived from Segment Anything (Apache-2.0)"),
        citation=CITATION,
        provenance=common.provenance_text("focal.py", args, "github.com/HighwayWu/FOCAL models/vit.py, models/hrnet.py",
                                          f"backbone {args.backbone}"),
        description="Per-pixel forensic features; cluster them (k-means, k=2, cosine) to split pristine from "
                    "forged pixels. The smaller cluster is the forged one in FOCAL.",
    )
    if args.reference:
        common.write_reference(args.reference, args.out, manifest, example, args.seed)


if __name__ == "__main__":
    main()
