#!/usr/bin/python3
"""Peer reference: a PyTorch VAE with a conditional PixelCNN decoder on Fashion-MNIST, timed per epoch.

The shapes of IlgpuVae's PixelCNN decoder (src/IlgpuVae/Model/PixelCnn.cs, and the pixelcnn_* golden fixtures):
a dense encoder 784 -> --hidden (ReLU) -> mu, logvar (--latent); the decoder p(x|z) = prod_i p(x_i | x_<i, z) is a
type-A masked conv (--first-kernel, 1 -> --channels), --layers type-B masked convs (--kernel, --channels), each
followed by ReLU, and a 1x1 type-B conv to logits; every layer adds V_l z per image and channel (conditional
PixelCNN, van den Oord et al., 2016). Stride 1, zero padding (K - 1)/2; masks: every tap before the centre in raster
order, the centre for a type-B layer (one grey channel), none after it. Parameter names as the fixtures':
encoder.0, encoder.mu, encoder.logvar, decoder.pixelcnn.{i}.{weight,cond.weight,bias}, decoder.out.*.

Training: whole epochs of dynamically binarized images (a fresh Bernoulli draw of each pixel per step), Adam 1e-3,
loss = BCE(sum)/B + KL (the ELBO; --alpha/--lam add the InfoVAE objective's IMQ MMD as the VAE peer does). One JSON
line per epoch: train loss, the test negative ELBO on --test-limit images, the epoch's seconds and images/s (training
steps only). On these 2-core machines PyTorch runs fastest on one thread (two contend): --threads 1 by default.

    /usr/bin/python3 scripts/pytorch_pixelcnn_peer.py --epochs 1 --train-limit 6000
"""
import argparse, gzip, json, struct, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    dims = struct.unpack(">" + "I" * data[3], data[4:4 + 4 * data[3]])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims)


def mask(n_out, n_in, kernel, type_a):
    """One grey channel: every tap before the centre, the centre for type B only, nothing after it."""
    centre = (kernel * kernel) // 2
    m = torch.zeros(n_out, n_in, kernel * kernel)
    m[:, :, :centre + (0 if type_a else 1)] = 1.0
    return m.reshape(n_out, n_in, kernel, kernel)


class MaskedConv2d(nn.Conv2d):
    """conv2d(h, W (.) M, b) + (V z) per image and channel; W's masked entries start and stay zero."""

    def __init__(self, n_in, n_out, kernel, latent, type_a):
        super().__init__(n_in, n_out, kernel, padding=kernel // 2)
        self.cond = nn.Linear(latent, n_out, bias=False)
        self.register_buffer("mask", mask(n_out, n_in, kernel, type_a))
        with torch.no_grad():
            self.weight.mul_(self.mask)

    def forward(self, h, z):
        return F.conv2d(h, self.weight * self.mask, self.bias, padding=self.padding) + self.cond(z)[:, :, None, None]


class PixelCnnVae(nn.Module):
    def __init__(self, hidden, latent, channels, layers, kernel, first_kernel):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.add_module("0", nn.Linear(784, hidden))
        self.encoder.mu, self.encoder.logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.decoder = nn.Module()
        self.decoder.pixelcnn = nn.ModuleList([MaskedConv2d(1, channels, first_kernel, latent, True)] +
                                              [MaskedConv2d(channels, channels, kernel, latent, False) for _ in range(layers)])
        self.decoder.out = MaskedConv2d(channels, 1, 1, latent, False)

    def forward(self, x):
        h = F.relu(getattr(self.encoder, "0")(x))
        mu, logvar = self.encoder.mu(h), self.encoder.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        g = x.view(-1, 1, 28, 28)
        for m in self.decoder.pixelcnn:
            g = F.relu(m(g, z))
        return self.decoder.out(g, z).flatten(1), mu, logvar, z


def imq_mmd(zq, zp):
    """Unbiased MMD² with the IMQ kernel c/(c+‖a−b‖²), c = 2·latent."""
    n, d = zq.shape
    c = 2.0 * d
    k = lambda a, b: c / (c + torch.cdist(a, b) ** 2)
    return (k(zq, zq).sum() - n) / (n * (n - 1)) + (k(zp, zp).sum() - n) / (n * (n - 1)) - 2 * k(zq, zp).mean()


def loss_fn(logits, x, mu, logvar, z, alpha, lam):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
    loss = rec + (1 - alpha) * kl
    if alpha + lam - 1 != 0:
        loss = loss + (alpha + lam - 1) * imq_mmd(z, torch.randn_like(z))
    return loss, rec + kl


@torch.no_grad()
def test_neg_elbo(m, te):
    """The negative ELBO per image (one z each), in nats."""
    m.eval()
    total = 0.0
    for i in range(0, te.shape[0], 500):
        x = te[i:i + 500]
        logits, mu, logvar, z = m(x)
        total += loss_fn(logits, x, mu, logvar, z, 0.0, 1.0)[1].item() * x.shape[0]
    return total / te.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--channels", type=int, default=32, help="feature channels of every masked conv but the last")
    ap.add_argument("--layers", type=int, default=4, help="type-B layers after the type-A one")
    ap.add_argument("--kernel", type=int, default=5, help="the type-B layers' kernel")
    ap.add_argument("--first-kernel", type=int, default=7, help="the type-A layer's kernel")
    ap.add_argument("--alpha", type=float, default=0.0)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (0: all 60,000)")
    ap.add_argument("--test-limit", type=int, default=1000, help="images of the test set the negative ELBO is measured on")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    tr = torch.tensor(read_idx(a.data + "/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    te = torch.tensor(read_idx(a.data + "/t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    if a.train_limit:
        tr = tr[:a.train_limit]
    te = torch.bernoulli(te[:a.test_limit], generator=torch.Generator().manual_seed(2))  # one fixed binarization
    m = PixelCnnVae(a.hidden, a.latent, a.channels, a.layers, a.kernel, a.first_kernel)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    n_used = tr.shape[0] - tr.shape[0] % a.batch  # whole batches only, as the VAE peer
    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        m.train()
        perm, total = torch.randperm(tr.shape[0]), 0.0
        for i in range(0, n_used, a.batch):
            x = torch.bernoulli(tr[perm[i:i + a.batch]])
            opt.zero_grad(set_to_none=True)
            logits, mu, logvar, z = m(x)
            loss, _ = loss_fn(logits, x, mu, logvar, z, a.alpha, a.lam)
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        secs = time.perf_counter() - t0
        print(json.dumps({"epoch": ep, "train_loss": total / n_used, "test_neg_elbo": test_neg_elbo(m, te), "epoch_seconds": round(secs, 3),
                          "images_per_second": round(n_used / secs, 1), "threads": torch.get_num_threads(),
                          "shape": f"784-{a.hidden}-{a.latent} pixelcnn A{a.first_kernel} {a.layers}xB{a.kernel} c{a.channels}"}), flush=True)


if __name__ == "__main__":
    main()
