#!/usr/bin/python3
"""Export CLIP4Cir (Baldrati et al., composed image retrieval, github.com/ABaldrati/CLIP4Cir) to three
Loupe model packages written into --out:

  <out>/image     CLIP image encoder (ViT)       input: RGB image, fixed size, CLIP mean/std -> "embedding" [N, D]
  <out>/text      CLIP text encoder (transformer) input: 77 BPE token ids (kind "tokens")   -> "embedding" [N, D]
  <out>/combiner  CLIP4Cir's Combiner             input: (image features, text features) (kind "vectors")
                                                 -> "embedding" [N, D], the L2-normalised query feature
Retrieval: normalise the image features of the gallery, combine(reference image, modification text),
rank the gallery by cosine similarity (CLIP4Cir's Combiner.forward multiplies that by logit_scale 100).

Architecture: OpenAI CLIP's model.py (VisionTransformer, text Transformer with a causal mask, QuickGELU,
pre-LN residual attention blocks; parameter names as in CLIP's state dict, so OpenAI's checkpoints load
strictly) and CLIP4Cir's combiner.py (text/image projection + ReLU, concatenation, combiner layer, a
learned sigmoid "dynamic scalar" mixing the raw text and image features with the output layer, L2 norm).
Only CLIP's ViT image encoders are written here; CLIP4Cir's default RN50x4 (ModifiedResNet with attention
pooling) is not, so its checkpoints are refused with that message.

Checkpoints: --checkpoint is a CLIP model: OpenAI's released ViT-B/32.pt (a TorchScript archive, read
with torch.jit.load, nothing unpickled) or a CLIP4Cir fine-tuned state ({"CLIP": state dict});
--combiner-checkpoint is CLIP4Cir's saved combiner ({"Combiner": state dict}). --tokenizer copies CLIP's
BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) into the text package; Loupe does not tokenise in C++ yet,
callers pass token ids (SOT 49406, the BPE ids, EOT 49407, zero padding).

Examples:
  tools/export/clip4cir.py --checkpoint ViT-B-32.pt --combiner-checkpoint combiner.pt --out ~/.local/share/loupe/models/clip4cir
  tools/export/clip4cir.py --random --seed 0 --small --out /tmp/c4c --reference /tmp/c4c-ref
"""

import json
import os
import shutil
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
CITATION = ("A. Baldrati, M. Bertini, T. Uricchio, A. Del Bimbo: Effective conditioned and composed image "
            "retrieval combining CLIP-based features. CVPR 2022 (demo) / Conditioned and composed image "
            "retrieval combining and partially fine-tuning CLIP-based features. CVPR-W 2022. "
            "CLIP: A. Radford et al., Learning Transferable Visual Models From Natural Language Supervision, 2021")
# ViT-B/32 as released by OpenAI, and a reduced configuration with the same code paths for tests.
FULL = dict(resolution=224, patch=32, vision_width=768, vision_layers=12, embed_dim=512, context=77,
            vocab=49408, text_width=512, text_heads=8, text_layers=12, projection_dim=512 * 4, hidden_dim=512 * 8)
SMALL = dict(resolution=64, patch=16, vision_width=64, vision_layers=2, embed_dim=32, context=77,
             vocab=1024, text_width=64, text_heads=2, text_layers=2, projection_dim=64, hidden_dim=128)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d_model, n_head, attn_mask=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(d_model, d_model * 4)), ("gelu", QuickGELU()),
                                              ("c_proj", nn.Linear(d_model * 4, d_model))]))
        self.ln_2 = nn.LayerNorm(d_model)
        self.attn_mask = attn_mask

    def forward(self, x):
        mask = self.attn_mask.to(dtype=x.dtype, device=x.device) if self.attn_mask is not None else None
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, attn_mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, attn_mask) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, resolution, patch, width, layers, heads, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((resolution // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype, device=x.device)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)  # NLD -> LND
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    """OpenAI CLIP with a ViT image encoder; parameter names as in its state dict."""

    def __init__(self, c):
        super().__init__()
        self.context_length = c["context"]
        self.visual = VisionTransformer(c["resolution"], c["patch"], c["vision_width"], c["vision_layers"],
                                        c["vision_width"] // 64 if c["vision_width"] >= 128 else 2, c["embed_dim"])
        mask = torch.empty(c["context"], c["context"]).fill_(float("-inf")).triu_(1)
        self.transformer = Transformer(c["text_width"], c["text_layers"], c["text_heads"], mask)
        self.vocab_size = c["vocab"]
        self.token_embedding = nn.Embedding(c["vocab"], c["text_width"])
        self.positional_embedding = nn.Parameter(torch.empty(c["context"], c["text_width"]))
        self.ln_final = nn.LayerNorm(c["text_width"])
        self.text_projection = nn.Parameter(torch.empty(c["text_width"], c["embed_dim"]))
        self.logit_scale = nn.Parameter(torch.ones([]) * 4.6052)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        nn.init.normal_(self.text_projection, std=c["text_width"] ** -0.5)
        # CLIP's initialisation of the transformer blocks (proj_std, attn_std, fc_std)
        for t in (self.transformer, self.visual.transformer):
            width = t.resblocks[0].ln_1.normalized_shape[0]
            proj_std = (width ** -0.5) * ((2 * len(t.resblocks)) ** -0.5)
            for block in t.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=width ** -0.5)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)

    def encode_image(self, image):
        return self.visual(image)

    def encode_text(self, text):
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_final(x)
        # the feature at the end-of-text token (the largest id in each sequence)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection


class Combiner(nn.Module):
    """CLIP4Cir's Combiner (combiner.py): fuses reference-image and modification-text features."""

    def __init__(self, clip_feature_dim, projection_dim, hidden_dim):
        super().__init__()
        self.text_projection_layer = nn.Linear(clip_feature_dim, projection_dim)
        self.image_projection_layer = nn.Linear(clip_feature_dim, projection_dim)
        self.dropout1 = nn.Dropout(0.5)
        self.dropout2 = nn.Dropout(0.5)
        self.combiner_layer = nn.Linear(projection_dim * 2, hidden_dim)
        self.output_layer = nn.Linear(hidden_dim, clip_feature_dim)
        self.dropout3 = nn.Dropout(0.5)
        self.dynamic_scalar = nn.Sequential(nn.Linear(projection_dim * 2, hidden_dim), nn.ReLU(), nn.Dropout(0.5),
                                            nn.Linear(hidden_dim, 1), nn.Sigmoid())
        self.logit_scale = 100

    def forward(self, image_features, text_features):  # = combine_features
        text_projected = self.dropout1(F.relu(self.text_projection_layer(text_features)))
        image_projected = self.dropout2(F.relu(self.image_projection_layer(image_features)))
        raw = torch.cat((text_projected, image_projected), -1)
        combined = self.dropout3(F.relu(self.combiner_layer(raw)))
        dynamic_scalar = self.dynamic_scalar(raw)
        output = self.output_layer(combined) + dynamic_scalar * text_features + (1 - dynamic_scalar) * image_features
        return F.normalize(output, dim=-1)


class ImageEncoder(nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, image):
        return self.clip.encode_image(image)


class TextEncoder(nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, text):
        return self.clip.encode_text(text)


def clip_state_dict(path):
    """OpenAI's release is a TorchScript archive (torch.jit.load, no unpickling of Python objects); a
    CLIP4Cir fine-tuned checkpoint is a pickle holding {"CLIP": state dict}."""
    import zipfile
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any("/code/" in n for n in names):
            return {k: v.float() for k, v in torch.jit.load(path, map_location="cpu").state_dict().items()}
    obj = common.load_checkpoint(path)
    if isinstance(obj, dict) and "CLIP" in obj:
        obj = obj["CLIP"]
    return common.state_dict_of(obj)


def tokens_example(n, c, generator):
    """Token id sequences as CLIP's tokenizer writes them: SOT, BPE ids, EOT (the largest id), zero padding."""
    sot, eot = c["vocab"] - 2, c["vocab"] - 1
    t = torch.zeros(n, c["context"], dtype=torch.long)
    for i in range(n):
        length = 3 + (5 * i + 4) % 12
        t[i, 0] = sot
        t[i, 1:length + 1] = torch.randint(1, sot, (length,), generator=generator)
        t[i, length + 1] = eot
    return t


def write_extra(out_dir, manifest, path):
    """Adds a file (the tokenizer vocabulary) to a written package and its manifest."""
    name = os.path.basename(path)
    shutil.copyfile(path, os.path.join(out_dir, name))
    manifest["files"][name] = common.sha256_of(os.path.join(out_dir, name))
    manifest["input"]["tokenizer"] = name
    with open(os.path.join(out_dir, common.MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def main(argv=None):
    parser = common.make_parser(__doc__.split("\n\n")[0], extra_checkpoints=("combiner-checkpoint",))
    parser.add_argument("--tokenizer", metavar="PATH", help="CLIP's BPE vocabulary to ship with the text package")
    parser.add_argument("--task", default="retrieval.compose", help="Loupe task id (retrieval.compose)")
    args = parser.parse_args(argv)
    common.check_source_args(args, parser, needed=("checkpoint", "combiner_checkpoint"))
    c = SMALL if args.small else FULL
    torch.manual_seed(args.seed)
    clip = CLIP(c)
    combiner = Combiner(c["embed_dim"], c["projection_dim"], c["hidden_dim"])
    if not args.random:
        sd = clip_state_dict(args.checkpoint)
        if "visual.attnpool.c_proj.weight" in sd or "visual.layer1.0.conv1.weight" in sd:
            common.fail("this checkpoint has CLIP's ResNet image encoder (RN50/RN50x4); clip4cir.py exports the "
                        "ViT variants only")
        sd = {k: v for k, v in sd.items() if k not in ("input_resolution", "context_length", "vocab_size")}
        common.load_strict(clip, sd, "CLIP")
        cs = common.load_checkpoint(args.combiner_checkpoint)
        if isinstance(cs, dict) and "Combiner" in cs:
            cs = cs["Combiner"]
        common.load_strict(combiner, common.state_dict_of(cs), "CLIP4Cir Combiner")
    clip.eval()
    combiner.eval()
    if args.save_upstream_checkpoint:
        os.makedirs(args.save_upstream_checkpoint, exist_ok=True)
        common.save_checkpoint(os.path.join(args.save_upstream_checkpoint, "clip.pt"), {"CLIP": clip.state_dict()})
        common.save_checkpoint(os.path.join(args.save_upstream_checkpoint, "combiner.pt"),
                               {"Combiner": combiner.state_dict()})

    g = torch.Generator().manual_seed(args.seed + 7)
    res, d = c["resolution"], c["embed_dim"]
    image_x = common.reference_input((2, 3, res, res), args.seed)
    text_x = tokens_example(3, c, g)
    vec_x = (torch.randn(2, d, generator=g), torch.randn(2, d, generator=g))
    base_id = args.id or ("clip4cir-vit-small" if args.small else "clip4cir-vit-b32")
    licence = args.licence or ("CC0-1.0 (random weights)" if args.random else
                               "MIT (CLIP, openai/CLIP); CLIP4Cir: see github.com/ABaldrati/CLIP4Cir")
    prov = common.provenance_text("clip4cir.py", args, "openai/CLIP model.py (ViT) + ABaldrati/CLIP4Cir combiner.py")
    common_kw = dict(version=args.version, task=args.task, licence=licence, citation=CITATION, provenance=prov)

    image_module = common.export_module(ImageEncoder(clip), image_x, freeze=not args.no_freeze,
                                        check_input=common.reference_input((2, 3, res, res), args.seed + 100))
    image_manifest = common.write_package(
        os.path.join(args.out, "image"), image_module, id=base_id + "-image", name="CLIP ViT image encoder (CLIP4Cir)",
        input_spec=common.image_input(size=("fixed", res, res), mean=CLIP_MEAN, std=CLIP_STD),
        outputs=[{"name": "embedding", "kind": "embedding", "shape": [-1, d]}], precisions=["float32", "float16"],
        description="CLIP preprocessing is a bicubic resize of the short side + centre crop; Loupe resizes the "
                    "whole image (bilinear) unless the caller crops first.", **common_kw)
    text_module = common.export_module(TextEncoder(clip), text_x, freeze=not args.no_freeze,
                                       check_input=tokens_example(3, c, torch.Generator().manual_seed(99)))
    text_manifest = common.write_package(
        os.path.join(args.out, "text"), text_module, id=base_id + "-text", name="CLIP text encoder (CLIP4Cir)",
        input_spec={"kind": "tokens", "context_length": c["context"], "vocab_size": c["vocab"], "dtype": "int64"},
        outputs=[{"name": "embedding", "kind": "embedding", "shape": [-1, d]}], precisions=["float32", "float16"],
        description=f"token ids as CLIP's tokenizer writes them: SOT {c['vocab'] - 2}, BPE ids, EOT {c['vocab'] - 1}, "
                    "zero padding to the context length", **common_kw)
    if args.tokenizer:
        write_extra(os.path.join(args.out, "text"), text_manifest, args.tokenizer)
    combiner_module = common.export_module(combiner, vec_x, freeze=not args.no_freeze,
                                           check_input=(vec_x[1], vec_x[0]))
    combiner_manifest = common.write_package(
        os.path.join(args.out, "combiner"), combiner_module, id=base_id + "-combiner", name="CLIP4Cir Combiner",
        input_spec={"kind": "vectors", "dims": [d, d]},
        outputs=[{"name": "embedding", "kind": "embedding", "shape": [-1, d]}],
        description="inputs: reference image features, modification text features (both unnormalised CLIP "
                    "features); output: the L2-normalised query feature", **common_kw)

    if args.reference:
        # The image package through the shared reference (fixed tensor + synthetic PNG preprocessed per the
        # manifest), the other two with their own inputs, all from the written TorchScript files.
        common.write_reference(os.path.join(args.reference, "image"), os.path.join(args.out, "image"), image_manifest,
                               image_x, args.seed, image_size=(96, 80))
        ref = os.path.join(args.reference, "vectors")
        os.makedirs(ref, exist_ok=True)
        with torch.inference_mode():
            text_out = torch.jit.load(os.path.join(args.out, "text", "model.pt")).eval()(text_x)
            comb_out = torch.jit.load(os.path.join(args.out, "combiner", "model.pt")).eval()(*vec_x)
            eager_text = clip.encode_text(text_x)
            # the whole pipeline: query = combine(image(reference), text(modification))
            q_img = clip.encode_image(image_x[:1])
            pipeline = combiner(q_img, eager_text[:1])
        print(f"text: max |torchscript - eager| = {float((text_out - eager_text).abs().max()):.3g}")
        text_x.numpy().astype("<i8").tofile(os.path.join(ref, "tokens.bin"))
        for name, t in (("text_embedding", text_out), ("image_features", vec_x[0]), ("text_features", vec_x[1]),
                        ("combined", comb_out), ("pipeline_image", image_x[:1]), ("pipeline_query", pipeline)):
            t.contiguous().numpy().astype("<f4").tofile(os.path.join(ref, name + ".bin"))
        with open(os.path.join(ref, "reference.json"), "w") as f:
            json.dump({"tokens": list(text_x.shape), "embed_dim": d, "context": c["context"], "vocab": c["vocab"],
                       "resolution": res, "torch": torch.__version__}, f, indent=2)
        print(f"wrote reference outputs to {ref}")
    print(f"wrote {combiner_manifest['id']}, {image_manifest['id']}, {text_manifest['id']}")


if __name__ == "__main__":
    main()
