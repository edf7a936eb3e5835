#!/usr/bin/python3
"""PyTorch-parity ("golden") fixtures for the DENSE, CONVOLUTIONAL and AUTOREGRESSIVE (MADE / IAF) VAE models.

Run with Debian's interpreter (python3-torch 1.13, no pip packages):

    /usr/bin/python3 tests/golden/make_fixtures.py            # (re)write tests/golden/{dense,conv,made,iaf,tcvae}_*.json, then verify them
    /usr/bin/python3 tests/golden/make_fixtures.py --check    # regenerate into a temp dir, compare byte for byte
    /usr/bin/python3 tests/golden/make_fixtures.py --verify [FILE ...]   # independent re-check of the JSON files
    /usr/bin/python3 tests/golden/make_fixtures.py --pixelcnn  # (re)write tests/golden/pixelcnn_*.json, then verify them

The PixelCNN-decoder fixtures (below) are written by their own flag, so regenerating one family leaves the other's
files alone. --check and --verify cover both.

Each fixture is one forward and backward pass of the InfoVAE objective, computed by PyTorch autograd in
float64, in the same JSON form as the dense fixtures (see ../shared/golden/README.md):

    loss = recon + (1 - alpha) * kl + (alpha + lambda - 1) * MMD^2(z, prior_z)

Top-level keys are the dense ones, unchanged: name, description, model, objective, params, x [B, d],
eps [B, k], prior_z [M, k], expected{mu, logvar, z, decoder_out, recon, kl, mmd, loss, grads}. All tensors
are nested lists, row-major; decoder_out is [B, d] (the last transposed conv's output flattened NCHW).
Generation is deterministic (fixed seeds, one CPU thread), so running twice gives identical files.

Dense fixtures (dense_*.json) are exactly the form of ../shared/golden/README.md: a `model` WITHOUT an `arch`,
`decoder` or `posterior` key is the dense MLP of the README (the autoregressive fixtures, below, always carry
`decoder`). Their shapes sit on and past the GPU kernels' edges: 64-row product tiles, 256-thread reduction
groups, 32-row MMD blocks, M != B, latent sizes beyond a block's shared memory, no hidden layers.

# beta-TC-VAE fixtures: tcvae_*.json (dense models)

The dense model and form above, with the KL term replaced by its decomposition (Chen, Li, Grosse & Duvenaud 2018,
"Isolating Sources of Disentanglement in VAEs"), estimated on the batch by minibatch-weighted sampling:

    loss = recon + mi + tc_beta * tc + dwkl        (the paper's alpha = gamma = 1)

## New keys of `objective` (present only in tcvae fixtures)
- `tc_beta`: beta, the total correlation's weight.
- `dataset_size`: N, the data set's size in the estimator. With B the batch and
  L[i, j, d] = log q(z_i,d | x_j) = -1/2 (log 2 pi + logvar[j, d] + (z[i, d] - mu[j, d])^2 / exp(logvar[j, d])):
      log q(z_i)       = logsumexp_j sum_d L[i, j, d] - log(N * B)
      log q(z_i,d)     = logsumexp_j L[i, j, d]       - log(N * B)
      log q(z_i | x_i) = sum_d L[i, i, d],   log p(z_i) = -1/2 sum_d (log 2 pi + z[i, d]^2)
  `alpha` is 1 and `lambda` 0 (the preset's: neither the analytic KL nor the MMD is in the loss); `kl` and `mmd` are
  still written, as for every fixture, with those weights.
## New keys of `expected` (present only in tcvae fixtures), each the mean over the batch's rows i
- `index_code_mi` = log q(z_i | x_i) - log q(z_i)
- `total_correlation` = log q(z_i) - sum_d log q(z_i,d)
- `dimension_wise_kl` = sum_d log q(z_i,d) - log p(z_i)
  (the three sum to the single-sample KL estimate log q(z|x) - log p(z)); `grads` is d loss / d params as always,
  the gradient reaching mu and logvar both directly and through z = mu + exp(logvar/2) * eps.

## New keys of `model` (present only in conv fixtures)
- `arch`: "conv".
- `input_dim`: d = C*H*W (kept so that x [B, d] reads as before).
- `image`: [C, H, W]; x[b] is reshaped NCHW to [C, H, W] (index c*H*W + h*W + w).
- `conv`: list of {"channels", "kernel", "stride", "padding"} (square kernels, same stride and padding on
  both axes; no dilation, no groups). Encoder layer i is nn.Conv2d(in_ch, channels, kernel, stride,
  padding) followed by the activation; in_ch of layer 0 is C. Output size per axis:
  H_out = floor((H_in + 2*padding - kernel) / stride) + 1.
  After the last conv the feature map [B, c_L, H_L, W_L] is flattened NCHW (torch's .flatten(1)) and goes
  through the dense layers of `encoder_hidden` (nn.Linear + activation each, may be empty) and then the two
  heads `mu` and `logvar` (nn.Linear, no activation).
- `decoder_hidden`: dense layers on z (nn.Linear + activation each, may be empty), followed by ONE more
  nn.Linear to c_L*H_L*W_L plus the activation (the "reshape layer"); its output is reshaped NCHW to
  [B, c_L, H_L, W_L].
- `deconv`: list of {"channels", "kernel", "stride", "padding", "output_padding"}, applied in order as
  nn.ConvTranspose2d(in_ch, channels, kernel, stride, padding, output_padding), each followed by the
  activation EXCEPT the last one (its output, C channels of H x W, is decoder_out: logits for bernoulli,
  means for gaussian). Output size per axis:
  H_out = (H_in - 1)*stride - 2*padding + kernel + output_padding.
  It mirrors `conv`: deconv j mirrors conv L-1-j with the same kernel/stride/padding, channels = that conv's
  input channels, and output_padding restoring that conv's input size exactly.
- `output_padding`: ALWAYS a two-element list [oph, opw] (height, width), each in [0, stride): images that
  are not square may need a different one per axis.
- `activation`, `likelihood`, `obs_log_var`, `encoder_hidden`, `latent_dim`: as for dense fixtures.

## Parameter names and layouts (PyTorch's own)
- encoder.conv.{i}.weight [out, in, kh, kw], encoder.conv.{i}.bias [out]      (nn.Conv2d, i from 0)
- encoder.{j}.weight [out, in], encoder.{j}.bias [out]                         (encoder_hidden, j from 0)
- encoder.mu.weight|bias, encoder.logvar.weight|bias                           (heads)
- decoder.{j}.weight|bias for j = 0 .. len(decoder_hidden); the last, decoder.{len(decoder_hidden)}, is the
  reshape layer [c_L*H_L*W_L, in]
- decoder.deconv.{i}.weight [in, out, kh, kw], .bias [out]   (nn.ConvTranspose2d, all but the last, i from 0)
- decoder.out.weight [in, C, kh, kw], decoder.out.bias [C]   (the last transposed conv)

Parameters use PyTorch's default initialisation (created directly in float64), which keeps activations
O(1). x is uniform in [0, 1]; for bernoulli cases about 20% of the entries are set to exactly 0 and 10% to
exactly 1, so both ends of the Bernoulli log-likelihood are exercised. eps and prior_z are standard normal.

# Autoregressive fixtures: made_*.json (MADE decoder) and iaf_*.json (IAF posterior)

Same top-level keys and the same objective; the encoder is the dense one of the README (x -> encoder_hidden
-> heads) or, in at most one fixture, the conv encoder above (`arch`: "conv", `image`, `conv`, then
encoder_hidden and the heads; such a fixture has NO `deconv` and its decoder is always the MADE). Indices
below are 0-based unless a degree; act = `activation`; "(W (.) M)" is the weight times its 0/1 mask.

## New keys of `model`
- `decoder`: "made" (the MADE decoder below) or "mlp" (the dense decoder of the README: decoder_hidden,
  then decoder.out; no `decoder` key at all means "mlp" too, as in every dense fixture). These files always
  write the key.
- `made_hidden`: [H_0, H_1, ...] the MADE decoder's hidden widths (may be empty); only with "made", and then
  `decoder_hidden` is [].
- `posterior`: "iaf" (absent: the plain diagonal Gaussian, z = mu + exp(logvar/2) * eps, analytic KL).
- `flow_steps` T >= 1, `flow_hidden` [H_0, ...] (at least one layer), `context_dim` C: only with "iaf".
- `made_degrees`: "spread" or "cyclic", the hidden degrees of every MADE of the fixture (the decoder's and the
  flow steps'; below); only with "made" or "iaf". A fixture WITHOUT the key means "cyclic": the rule of every
  fixture written before the key existed, which keep reading as they did.

## Hidden degrees of a MADE over n ordered values (n >= 2), hidden widths H_0, H_1, ..., w = min_l H_l
  cyclic: m_l(j) = 1 + (j mod (n - 1)), in every layer.
  spread: S(u) = [1 + floor(j * (n - 1) / u) for j = 0 .. u-1], u degrees spaced evenly over 1 .. n-1 (every one
          of them when u >= n - 1); layer l is S(w) followed by S(H_l - w) (its first w units take the narrowest
          layer's degrees, the other H_l - w are spread on their own), so every layer holds S(w) and an output of
          degree D reaches the inputs up to the largest t in S(w) below D.
  m_l(j) below is the fixture's rule.

## MADE decoder, p(x|z) = prod_i p(x_i | x_<i, z) over the d values of x[b] in index order (NCHW for conv)
  degrees: inputs m0(i) = i + 1 (i = 0..d-1); hidden layer l unit j: m_l(j) by `made_degrees` over n = d (d >= 2)
  masks (1 = connected): hidden layer l:  M_l[j, i] = 1 iff m_l(j) >= m_{l-1}(i)   (m_{-1} = m0)
                         output:          M_out[i, j] = 1 iff m0(i) > m_L(j)        (L = last hidden layer;
                                          with no hidden layer M_out[i, i'] = 1 iff i > i', strictly lower)
  h = x (the observed data, the same x as the likelihood's);
  h = act((W_l (.) M_l) h + V_l z + b_l) for each hidden layer l;  decoder_out = (W_out (.) M_out) h + V_out z + b_out
  (logits for bernoulli, means for gaussian). z feeds every hidden layer AND the output; z is expected.z (z_T
  with an IAF posterior). Output i therefore depends on x_0 .. x_{i-1} and z only (output 0 on z only).

## IAF posterior (T steps, each a MADE over the k dims of z conditioned on a context vector c)
  c = encoder.context(h_enc) (nn.Linear, NO activation; h_enc = the input of the mu / logvar heads);
  z_0 = mu + exp(logvar/2) * eps; for t = 0..T-1, on the step's input z_t:
  input degrees deg_t(j) = j + 1 for even t, k - j for odd t (the order is reversed between steps; k >= 2);
  hidden degrees m_l(u) by `made_degrees` over n = k; masks: hidden l: M_l[u, v] = 1 iff m_l(u) >= m_{l-1}(v)
  (m_{-1} = deg_t); the two outputs m and s share M_out[j, u] = 1 iff deg_t(j) > m_L(u);
  h = z_t;  h = act((W_l (.) M_l) h + V_l c + b_l) for each layer of flow_hidden;
  m = (Wm (.) M_out) h + Vm c + bm;  s = (Ws (.) M_out) h + Vs c + bs;  sigma = sigmoid(s);
  z_{t+1} = sigma * z_t + (1 - sigma) * m.
  log q(z_T|x) = sum_j [-eps_j^2/2 - log(2 pi)/2 - logvar_j/2] - sum_t sum_j log sigma_{t,j}
  (log sigma = -softplus(-s)), log p(z_T) = sum_j [-z_T,j^2/2 - log(2 pi)/2], and the objective's
  kl = mean_b [log q(z_T|x_b) - log p(z_T,b)] (a single-sample estimate, replacing the analytic KL);
  loss = recon + (1 - alpha) kl + (alpha + lambda - 1) MMD^2(z_T, prior_z), recon with the decoder on z_T.

## New parameter names (nn.Linear layout [out, in]; "cond" weights have no bias of their own)
- encoder.context.weight [C, width], encoder.context.bias [C]                  (iaf only; width = heads' input)
- decoder.made.{l}.weight [H_l, H_{l-1}] (H_{-1} = d), decoder.made.{l}.cond.weight [H_l, k],
  decoder.made.{l}.bias [H_l]; decoder.out.weight [d, H_L] ([d, d] with no hidden layer),
  decoder.out.cond.weight [d, k], decoder.out.bias [d]                          (made decoder)
- flow.{t}.made.{l}.weight [H_l, H_{l-1}] (H_{-1} = k), flow.{t}.made.{l}.cond.weight [H_l, C],
  flow.{t}.made.{l}.bias [H_l]; flow.{t}.m.weight [k, H_L], flow.{t}.m.cond.weight [k, C], flow.{t}.m.bias [k];
  flow.{t}.s.weight, flow.{t}.s.cond.weight, flow.{t}.s.bias likewise           (iaf, t = 0..T-1)
- with an mlp decoder: decoder.{j}.*, decoder.out.* as in the README.
Masked weights are stored with their masked entries exactly 0.0 (never -0.0), and the forward uses
W (.) M regardless, so their gradients are exactly 0.0 there too. Initialisation: PyTorch's default
nn.Linear for every weight / bias (the cond weight as a bias-free nn.Linear(cond_dim, out)), then masked;
the s biases are set to exactly +1 (sigma starts near 0.73).

## New top-level key and new `expected` keys
- `masks`: {weight name: 0/1 matrix (nested lists of ints), same shape as the weight} for EVERY masked weight
  (decoder.made.{l}.weight, decoder.out.weight of a MADE decoder; flow.{t}.made.{l}.weight, flow.{t}.m.weight,
  flow.{t}.s.weight); the cond weights and biases are never masked.
- `expected.z` is z_T (what the decoder and the MMD see); with "iaf" also `expected.context` [B, C],
  `expected.z0` [B, k] (= mu + exp(logvar/2) * eps) and `expected.log_q` [B] (log q(z_T|x_b) per row).
  `expected.mu` / `logvar` stay the Gaussian's; `kl` is the estimate above.

# PixelCNN-decoder fixtures: pixelcnn_*.json

Same top-level keys and the same objective as the dense fixtures, plus `masks` as above; the encoder is the dense
one of the README (x -> encoder_hidden -> heads), the posterior the plain diagonal Gaussian (analytic KL).

## New keys of `model`
- `decoder`: "pixelcnn".
- `image`: [C, H, W]; x[b] is reshaped NCHW to [C, H, W] (index c*H*W + h*W + w); `input_dim` d = C*H*W;
  `decoder_hidden`: [] (a PixelCNN decoder has no dense layers).
- `pixelcnn_channels` F >= C: the feature channels of every layer but the last.
- `pixelcnn_first_kernel` K_A (odd, >= 3): the kernel of layer 0, the type-A layer.
- `pixelcnn_layers` L >= 0: the type-B layers after it, each with the kernel `pixelcnn_kernel` K (odd, >= 1).

## PixelCNN decoder, p(x|z) = prod_i p(x_i | x_<i, z) (van den Oord et al., 2016, conditional on z)
  order: pixel by pixel in raster order, and channel by channel within a pixel: value (c, y, x) is number
         (y*W + x)*C + c.
  groups: channel j of a layer with n channels is in colour group floor(j*C / n); data channel c is group c.
  mask of a K x K masked conv, M[o, i, ky, kx], with r = (K - 1)/2, tap t = ky*K + kx, centre t_c = r*K + r:
         1 for t < t_c (the rows above, the pixels to the left); 0 for t > t_c;
         at t = t_c: 1 iff group(o) > group(i) (type A) or group(o) >= group(i) (type B).
  layers: 0: type A, C -> F, kernel K_A; 1..L: type B, F -> F, kernel K; out: type B, F -> C, 1 x 1.
  every layer: stride 1, zero padding r, and z added per image and channel through its own V:
         pre_l = conv2d(h_{l-1}, W_l (.) M_l, bias b_l, padding r) + (V_l z)[:, :, None, None];
         h_0 = x reshaped [B, C, H, W] (the observed data, the same x as the likelihood's); h_l = act(pre_l) for
         the layers 0..L; decoder_out = pre_out (no activation: logits for bernoulli, means for gaussian),
         flattened NCHW to [B, d]. Output value i therefore depends on z and on values before i only.

## New parameter names (nn.Conv2d layout [out, in, K, K]; "cond" weights [out, k] have no bias of their own)
- decoder.pixelcnn.{i}.weight [F, C (i = 0) or F, K, K], decoder.pixelcnn.{i}.cond.weight [F, k],
  decoder.pixelcnn.{i}.bias [F]   (i = 0..L; K = K_A for i = 0)
- decoder.out.weight [C, F, 1, 1], decoder.out.cond.weight [C, k], decoder.out.bias [C]
Initialisation: PyTorch's default nn.Conv2d for weight and bias (bound 1/sqrt(in*K*K)), the cond weight as a
bias-free nn.Linear(k, out) (bound 1/sqrt(k)); then the masked entries set to exactly +0.0. `masks` holds every
decoder.pixelcnn.{i}.weight and decoder.out.weight mask, [out, in, K, K].
"""

import argparse
import filecmp
import json
import math
import os
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
LOG_2PI = math.log(2.0 * math.pi)
TOLERANCE = 1e-12
PREFIXES = ("dense_", "conv_", "made_", "iaf_", "tcvae_")  # the files this script owns (--check flags any it does not generate)
PIXELCNN_FOLDER = HERE  # written by --pixelcnn
PIXELCNN_PREFIX = "pixelcnn_"

# One dict per fixture. `conv` lists the encoder's conv layers; the decoder's deconv list is derived from
# it (mirror) and written out explicitly. Comments say what each case adds to the coverage.
CASES = [
    # 7x7 (odd, square), one conv, stride 2 padding 1 kernel 3 -> 4x4 (output padding 0),
    # no dense layers at all, plain VAE, IMQ unbiased, relu, bernoulli.
    dict(name="conv_vae_bernoulli_relu_7x7", seed=101,
         description="plain VAE (alpha=0, lambda=1), 1x7x7, one conv k3 s2 p1 (output padding 0), "
                     "no dense hidden layers, Bernoulli, ReLU, IMQ unbiased",
         image=[1, 7, 7], conv=[(3, 3, 2, 1)], encoder_hidden=[], decoder_hidden=[], latent_dim=2,
         activation="relu", likelihood="bernoulli", batch=4, prior=4,
         alpha=0.0, lam=1.0, kernel="imq", kernel_params={"c": 4.0}, estimator="unbiased"),
    # 8x6 (non-square, even): conv k3 s2 p1 needs output padding [1, 1]; then a kernel-2 stride-1 conv;
    # InfoVAE with the biased RBF estimator and M != B, leaky relu.
    dict(name="conv_infovae_rbf_biased_leaky_8x6", seed=202,
         description="InfoVAE (alpha=0, lambda=100), 1x8x6, conv k3 s2 p1 (output padding [1,1]) then "
                     "k2 s1 p0, dense 6 / 5, Bernoulli, leaky ReLU, RBF h=1 biased, M=7 != B=5",
         image=[1, 8, 6], conv=[(2, 3, 2, 1), (3, 2, 1, 0)], encoder_hidden=[6], decoder_hidden=[5],
         latent_dim=3, activation="leaky_relu", likelihood="bernoulli", batch=5, prior=7,
         alpha=0.0, lam=100.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased"),
    # 3 input channels, 5x7, kernel 4 stride 2 padding 1 -> 2x3 with output padding [1, 1];
    # beta-VAE with a Gaussian decoder whose obs_log_var is not a dyadic number; tanh.
    dict(name="conv_betavae_gaussian_tanh_rgb_5x7", seed=303,
         description="beta-VAE beta=4 (alpha=-3, lambda=4), 3x5x7, one conv k4 s2 p1 (output padding "
                     "[1,1]), encoder dense 5, no decoder dense, Gaussian obs_log_var=-0.7, tanh, IMQ unbiased",
         image=[3, 5, 7], conv=[(4, 4, 2, 1)], encoder_hidden=[5], decoder_hidden=[], latent_dim=2,
         activation="tanh", likelihood="gaussian", obs_log_var=-0.7, batch=3, prior=3,
         alpha=-3.0, lam=4.0, kernel="imq", kernel_params={"c": 4.0}, estimator="unbiased"),
    # 9x9: kernel 5 stride 1 padding 0 -> 5x5, then k3 s2 p1 -> 3x3; MMD-VAE (no KL), softplus, M < B.
    dict(name="conv_mmdvae_rbf_softplus_9x9", seed=404,
         description="MMD-VAE (alpha=1, lambda=50), 1x9x9, conv k5 s1 p0 then k3 s2 p1, no encoder "
                     "dense, decoder dense 6, Bernoulli, softplus, RBF h=1.5 unbiased, M=4 != B=6",
         image=[1, 9, 9], conv=[(2, 5, 1, 0), (4, 3, 2, 1)], encoder_hidden=[], decoder_hidden=[6],
         latent_dim=4, activation="softplus", likelihood="bernoulli", batch=6, prior=4,
         alpha=1.0, lam=50.0, kernel="rbf", kernel_params={"bandwidth": 1.5}, estimator="unbiased"),
    # 3x6x9: k3 s2 p1 gives 3x5 and needs DIFFERENT output paddings per axis, [1, 0].
    dict(name="conv_infovae_imq_biased_rgb_6x9_mixed_outpad", seed=505,
         description="InfoVAE (alpha=0.5, lambda=10), 3x6x9, one conv k3 s2 p1 -> 3x5 (output padding "
                     "[1,0]: differs per axis), dense 4 / 4, Bernoulli, leaky ReLU, IMQ c=6 biased, M=5 != B=4",
         image=[3, 6, 9], conv=[(4, 3, 2, 1)], encoder_hidden=[4], decoder_hidden=[4], latent_dim=3,
         activation="leaky_relu", likelihood="bernoulli", batch=4, prior=5,
         alpha=0.5, lam=10.0, kernel="imq", kernel_params={"c": 6.0}, estimator="biased"),
    # 2x10x7: stride 1 padding 1 (same size) then k3 s2 p1 -> 5x4; the INNER deconv needs output padding
    # [1, 0]; no dense layers; Gaussian, softplus, InfoVAE with the RBF kernel, unbiased, M > B.
    dict(name="conv_infovae_gaussian_softplus_10x7_inner_outpad", seed=606,
         description="InfoVAE (alpha=0, lambda=100), 2x10x7, conv k3 s1 p1 then k3 s2 p1 (inner deconv "
                     "output padding [1,0]), no dense hidden layers, Gaussian obs_log_var=-0.7, softplus, "
                     "RBF h=1 unbiased, M=5 != B=3",
         image=[2, 10, 7], conv=[(3, 3, 1, 1), (4, 3, 2, 1)], encoder_hidden=[], decoder_hidden=[],
         latent_dim=2, activation="softplus", likelihood="gaussian", obs_log_var=-0.7, batch=3, prior=5,
         alpha=0.0, lam=100.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="unbiased"),
    # 3x8x8: two stride-2 kernel-4 padding-1 convs (DCGAN-like) 8 -> 4 -> 2; mmd-vae with IMQ biased, tanh.
    dict(name="conv_mmdvae_imq_tanh_rgb_8x8_two_stride2", seed=707,
         description="MMD-VAE (alpha=1, lambda=50), 3x8x8, conv k4 s2 p1 twice (8->4->2), dense 5 / 3, "
                     "Bernoulli, tanh, IMQ c=4 biased",
         image=[3, 8, 8], conv=[(3, 4, 2, 1), (4, 4, 2, 1)], encoder_hidden=[5], decoder_hidden=[3],
         latent_dim=2, activation="tanh", likelihood="bernoulli", batch=4, prior=4,
         alpha=1.0, lam=50.0, kernel="imq", kernel_params={"c": 4.0}, estimator="biased"),
]


# Dense cases (dense_*.json): the shapes that a real OpenCL device (PoCL, work-groups running concurrently) got
# wrong before the GPU kernels' shared memory was made static, and others on and past the launch edges.
DENSE_CASES = [
    dict(name="dense_vae_bernoulli_relu_d784_h48_k3_h10_b64", seed=2101,
         description="plain VAE (alpha=0, lambda=1), d=784, encoder dense 48, k=3, decoder dense 10, batch 64, "
                     "Bernoulli, ReLU, IMQ c=6 unbiased",
         d=784, encoder_hidden=[48], latent_dim=3, decoder_hidden=[10],
         activation="relu", likelihood="bernoulli", batch=64, prior=64,
         alpha=0.0, lam=1.0, kernel="imq", kernel_params={"c": 6.0}, estimator="unbiased"),
    dict(name="dense_infovae_bernoulli_leaky_d12_h10_k33_h10_b130", seed=2202,
         description="InfoVAE (alpha=0, lambda=100), d=12, encoder dense 10, k=33 (MMD blocks of 16), decoder dense 10, "
                     "batch 130 (past two 64-row tiles), Bernoulli, leaky ReLU, IMQ c=66 unbiased",
         d=12, encoder_hidden=[10], latent_dim=33, decoder_hidden=[10],
         activation="leaky_relu", likelihood="bernoulli", batch=130, prior=130,
         alpha=0.0, lam=100.0, kernel="imq", kernel_params={"c": 66.0}, estimator="unbiased"),
    dict(name="dense_mmdvae_gaussian_tanh_d129_h200_k33_h130_b130_m70", seed=2303,
         description="MMD-VAE (alpha=1, lambda=100), d=129, encoder dense 200, k=33, decoder dense 130, batch 130, "
                     "M=70 != B, Gaussian obs_log_var=-0.4, tanh, RBF h=2 unbiased",
         d=129, encoder_hidden=[200], latent_dim=33, decoder_hidden=[130],
         activation="tanh", likelihood="gaussian", obs_log_var=-0.4, batch=130, prior=70,
         alpha=1.0, lam=100.0, kernel="rbf", kernel_params={"bandwidth": 2.0}, estimator="unbiased"),
    dict(name="dense_betavae_gaussian_softplus_d257_h65_63_k21_h65_b97_m33", seed=2404,
         description="beta-VAE beta=4 (alpha=-3, lambda=4), d=257 (a row past a 256-thread group), encoder dense "
                     "65, 63, k=21, decoder dense 65, batch 97, M=33, Gaussian obs_log_var=0.3, softplus, IMQ c=42 biased",
         d=257, encoder_hidden=[65, 63], latent_dim=21, decoder_hidden=[65],
         activation="softplus", likelihood="gaussian", obs_log_var=0.3, batch=97, prior=33,
         alpha=-3.0, lam=4.0, kernel="imq", kernel_params={"c": 42.0}, estimator="biased"),
    dict(name="dense_infovae_bernoulli_nohidden_d33_k5_b66_m65", seed=2505,
         description="InfoVAE (alpha=0.5, lambda=50), d=33, no hidden layers (heads on x, decoder.out on z), k=5, "
                     "batch 66, M=65 (one past two MMD blocks of 32 each side), Bernoulli, RBF h=1 biased",
         d=33, encoder_hidden=[], latent_dim=5, decoder_hidden=[],
         activation="relu", likelihood="bernoulli", batch=66, prior=65,
         alpha=0.5, lam=50.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased"),
]


# Autoregressive cases (made_*.json, iaf_*.json). `d` is the dense input size (or `image` + `conv` for the
# one conv-encoder case); `decoder` "made" uses `made_hidden`, "mlp" uses `decoder_hidden`; `flow` is None
# (Gaussian posterior) or (steps, hidden, context_dim) for the IAF.
# beta-TC-VAE (tcvae_*.json): dense models; beta above and below 1 (the log q(z) and the marginals' weights change sign);
# batches past the GPU tiles' blocks (4 in the small test shape, 16 at k = 21 in 48 KB, 32 at k = 4).
TC_CASES = [
    dict(name="tcvae_bernoulli_relu_d20_h12_k4_h12_b37_n500", seed=2601,
         description="beta-TC-VAE beta=6, N=500, d=20, encoder dense 12, k=4, decoder dense 12, batch 37 (past a 32-row block), "
                     "Bernoulli, ReLU; MMD (IMQ c=8 unbiased) reported with weight 0",
         d=20, encoder_hidden=[12], latent_dim=4, decoder_hidden=[12],
         activation="relu", likelihood="bernoulli", batch=37, prior=37,
         alpha=1.0, lam=0.0, kernel="imq", kernel_params={"c": 8.0}, estimator="unbiased", tc_beta=6.0, dataset_size=500),
    dict(name="tcvae_gaussian_tanh_d30_h16_k21_h16_b70_n2000", seed=2602,
         description="beta-TC-VAE beta=0.5, N=2000, d=30, encoder dense 16, k=21 (blocks of 16), decoder dense 16, batch 70, "
                     "Gaussian obs_log_var=-0.2, tanh; MMD (RBF h=1 biased) reported with weight 0",
         d=30, encoder_hidden=[16], latent_dim=21, decoder_hidden=[16],
         activation="tanh", likelihood="gaussian", obs_log_var=-0.2, batch=70, prior=70,
         alpha=1.0, lam=0.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased", tc_beta=0.5, dataset_size=2000),
]

AR_CASES = [
    # MADE decoder, one hidden layer wider than d - 1 (every degree 1..7 present, some twice), plain VAE.
    dict(name="made_vae_bernoulli_relu_d8_h10", seed=1101,
         description="plain VAE (alpha=0, lambda=1), d=8, encoder dense 6, k=2, MADE decoder hidden [10], "
                     "Bernoulli, ReLU, IMQ c=4 unbiased",
         d=8, encoder_hidden=[6], latent_dim=2, decoder="made", made_hidden=[10], decoder_hidden=[], flow=None,
         activation="relu", likelihood="bernoulli", batch=4, prior=4,
         alpha=0.0, lam=1.0, kernel="imq", kernel_params={"c": 4.0}, estimator="unbiased"),
    # MADE decoder with NO hidden layer (strictly lower-triangular output mask), Gaussian, M != B.
    dict(name="made_infovae_gaussian_tanh_d6_nohidden", seed=1202,
         description="InfoVAE (alpha=0, lambda=100), d=6, encoder dense 5, k=3, MADE decoder with no hidden "
                     "layer (strictly lower-triangular mask), Gaussian obs_log_var=-0.7, tanh, RBF h=1 biased, "
                     "M=7 != B=5",
         d=6, encoder_hidden=[5], latent_dim=3, decoder="made", made_hidden=[], decoder_hidden=[], flow=None,
         activation="tanh", likelihood="gaussian", obs_log_var=-0.7, batch=5, prior=7,
         alpha=0.0, lam=100.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased"),
    # MADE decoder with TWO hidden layers, no encoder hidden layer, MMD-VAE (no KL term).
    dict(name="made_mmdvae_bernoulli_softplus_d7_two_hidden", seed=1303,
         description="MMD-VAE (alpha=1, lambda=50), d=7, no encoder hidden layer, k=2, MADE decoder hidden "
                     "[9, 8], Bernoulli, softplus, IMQ c=2 biased",
         d=7, encoder_hidden=[], latent_dim=2, decoder="made", made_hidden=[9, 8], decoder_hidden=[], flow=None,
         activation="softplus", likelihood="bernoulli", batch=3, prior=3,
         alpha=1.0, lam=50.0, kernel="imq", kernel_params={"c": 2.0}, estimator="biased"),
    # Conv encoder (1x4x3, d=12) + MADE decoder over the NCHW-flattened pixels; beta-VAE.
    dict(name="made_conv_betavae_bernoulli_leaky_1x4x3", seed=1404,
         description="beta-VAE beta=4 (alpha=-3, lambda=4), conv encoder 1x4x3, conv k3 s1 p1 (2 channels), "
                     "encoder dense 5, k=2, MADE decoder hidden [6] over the 12 pixels (NCHW order), Bernoulli, "
                     "leaky ReLU, RBF h=1 biased",
         image=[1, 4, 3], conv=[(2, 3, 1, 1)], encoder_hidden=[5], latent_dim=2, decoder="made",
         made_hidden=[6], decoder_hidden=[], flow=None,
         activation="leaky_relu", likelihood="bernoulli", batch=3, prior=3,
         alpha=-3.0, lam=4.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased"),
    # IAF posterior, one step, MLP decoder; beta-VAE (the flow's KL estimate weighted by 4), M != B.
    dict(name="iaf_betavae_bernoulli_leaky_1step_mlp", seed=1505,
         description="beta-VAE beta=4 (alpha=-3, lambda=4), d=10, encoder dense 8, k=3, IAF 1 step hidden [6] "
                     "context 4, MLP decoder dense 6, Bernoulli, leaky ReLU, RBF h=1.5 unbiased, M=4 != B=6",
         d=10, encoder_hidden=[8], latent_dim=3, decoder="mlp", made_hidden=None, decoder_hidden=[6],
         flow=(1, [6], 4),
         activation="leaky_relu", likelihood="bernoulli", batch=6, prior=4,
         alpha=-3.0, lam=4.0, kernel="rbf", kernel_params={"bandwidth": 1.5}, estimator="unbiased"),
    # IAF posterior, two steps (order reversed in the second), two flow hidden layers, MADE decoder.
    dict(name="iaf_infovae_gaussian_softplus_2step_made", seed=1606,
         description="InfoVAE (alpha=0, lambda=100), d=6, encoder dense 7, k=4, IAF 2 steps (degrees reversed "
                     "in step 1) hidden [6, 5] context 3, MADE decoder hidden [8], Gaussian obs_log_var=-0.3, "
                     "softplus, IMQ c=1 unbiased, M=5 != B=4",
         d=6, encoder_hidden=[7], latent_dim=4, decoder="made", made_hidden=[8], decoder_hidden=[],
         flow=(2, [6, 5], 3),
         activation="softplus", likelihood="gaussian", obs_log_var=-0.3, batch=4, prior=5,
         alpha=0.0, lam=100.0, kernel="imq", kernel_params={"c": 1.0}, estimator="unbiased"),
    # IAF posterior, three steps, k=2 (smallest), context straight from x, MLP decoder with no hidden layer.
    dict(name="iaf_vae_gaussian_relu_3step_k2_mlp", seed=1707,
         description="plain VAE (alpha=0, lambda=1), d=5, no encoder hidden layer (context and heads on x), "
                     "k=2, IAF 3 steps hidden [4] context 2, MLP decoder with no hidden layer, Gaussian "
                     "obs_log_var=-1.1, ReLU, RBF h=1 unbiased, M=6 != B=3",
         d=5, encoder_hidden=[], latent_dim=2, decoder="mlp", made_hidden=None, decoder_hidden=[],
         flow=(3, [4], 2),
         activation="relu", likelihood="gaussian", obs_log_var=-1.1, batch=3, prior=6,
         alpha=0.0, lam=1.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="unbiased"),
    # The spread degree rule (`made_degrees`): a MADE decoder narrower than d - 1, where the cyclic rule would stop
    # at degree 4 (S(4) over 1..11 = 1, 3, 6, 9).
    dict(name="made_spread_vae_bernoulli_relu_d12_h4", seed=1808,
         description="plain VAE (alpha=0, lambda=1), d=12, encoder dense 6, k=2, MADE decoder hidden [4] (narrower "
                     "than d - 1), spread degrees, Bernoulli, ReLU, IMQ c=4 unbiased",
         d=12, encoder_hidden=[6], latent_dim=2, decoder="made", made_hidden=[4], decoder_hidden=[], flow=None,
         made_degrees="spread",
         activation="relu", likelihood="bernoulli", batch=4, prior=4,
         alpha=0.0, lam=1.0, kernel="imq", kernel_params={"c": 4.0}, estimator="unbiased"),
    # Spread degrees through three hidden layers of different widths, the narrowest in the middle: every layer
    # starts with S(3) = 1, 4, 7 and spreads the rest on its own.
    dict(name="made_spread_infovae_gaussian_tanh_d10_h7_3_5", seed=1909,
         description="InfoVAE (alpha=0, lambda=100), d=10, encoder dense 5, k=3, MADE decoder hidden [7, 3, 5], "
                     "spread degrees, Gaussian obs_log_var=-0.5, tanh, RBF h=1 biased, M=6 != B=5",
         d=10, encoder_hidden=[5], latent_dim=3, decoder="made", made_hidden=[7, 3, 5], decoder_hidden=[], flow=None,
         made_degrees="spread",
         activation="tanh", likelihood="gaussian", obs_log_var=-0.5, batch=5, prior=6,
         alpha=0.0, lam=100.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased"),
    # Spread degrees in an IAF (two steps, the second reversed) whose layers are narrower than k - 1 = 4, and in
    # the MADE decoder after it.
    dict(name="iaf_spread_betavae_bernoulli_softplus_2step_k5_made", seed=2010,
         description="beta-VAE beta=4 (alpha=-3, lambda=4), d=9, encoder dense 7, k=5, IAF 2 steps (degrees "
                     "reversed in step 1) hidden [6, 3] context 3, MADE decoder hidden [5], spread degrees, "
                     "Bernoulli, softplus, IMQ c=10 unbiased, M=5 != B=4",
         d=9, encoder_hidden=[7], latent_dim=5, decoder="made", made_hidden=[5], decoder_hidden=[],
         flow=(2, [6, 3], 3), made_degrees="spread",
         activation="softplus", likelihood="bernoulli", batch=4, prior=5,
         alpha=-3.0, lam=4.0, kernel="imq", kernel_params={"c": 10.0}, estimator="unbiased"),
]


# PixelCNN-decoder cases (pixelcnn_*.json, written by --pixelcnn): `pixelcnn` is (F, L, K, K_A), the
# feature channels, the type-B layers, their kernel and the type-A kernel; the encoder is dense (`encoder_hidden`).
PIXELCNN_CASES = [
    # Grey 5x7 (odd, non-square), one type-B layer of kernel 3 after a 5x5 type-A layer, plain VAE.
    dict(name="pixelcnn_vae_bernoulli_relu_grey_5x7", seed=3101,
         description="plain VAE (alpha=0, lambda=1), 1x5x7, encoder dense 8, k=3, PixelCNN decoder: 4 channels, "
                     "type A 5x5, one type B 3x3, out 1x1; Bernoulli, ReLU, IMQ c=6 unbiased",
         image=[1, 5, 7], encoder_hidden=[8], latent_dim=3, pixelcnn=(4, 1, 3, 5),
         activation="relu", likelihood="bernoulli", batch=3, prior=3,
         alpha=0.0, lam=1.0, kernel="imq", kernel_params={"c": 6.0}, estimator="unbiased"),
    # Colour 4x5, 6 channels (two per colour group), two type-B 3x3 layers; Gaussian, M != B.
    dict(name="pixelcnn_infovae_gaussian_tanh_rgb_4x5", seed=3202,
         description="InfoVAE (alpha=0, lambda=100), 3x4x5, encoder dense 10, k=2, PixelCNN decoder: 6 channels, "
                     "type A 3x3, two type B 3x3, out 1x1; Gaussian obs_log_var=-0.7, tanh, RBF h=1 biased, M=5 != B=4",
         image=[3, 4, 5], encoder_hidden=[10], latent_dim=2, pixelcnn=(6, 2, 3, 3),
         activation="tanh", likelihood="gaussian", obs_log_var=-0.7, batch=4, prior=5,
         alpha=0.0, lam=100.0, kernel="rbf", kernel_params={"bandwidth": 1.0}, estimator="biased"),
    # Colour 5x4 with 4 channels (groups of 2, 1, 1: not divisible by 3), a 7x7 type-A kernel wider than the image,
    # a 5x5 type-B layer; no encoder hidden layer; beta-VAE.
    dict(name="pixelcnn_betavae_bernoulli_leaky_rgb_5x4_k7_k5", seed=3303,
         description="beta-VAE beta=4 (alpha=-3, lambda=4), 3x5x4, no encoder hidden layer, k=3, PixelCNN decoder: "
                     "4 channels (colour groups of 2, 1, 1), type A 7x7 (wider than the image), one type B 5x5, out 1x1; "
                     "Bernoulli, leaky ReLU, IMQ c=6 biased",
         image=[3, 5, 4], encoder_hidden=[], latent_dim=3, pixelcnn=(4, 1, 5, 7),
         activation="leaky_relu", likelihood="bernoulli", batch=3, prior=3,
         alpha=-3.0, lam=4.0, kernel="imq", kernel_params={"c": 6.0}, estimator="biased"),
    # Grey 6x6, no type-B layer (type A straight into the 1x1 output), two encoder layers; MMD-VAE, Gaussian.
    dict(name="pixelcnn_mmdvae_gaussian_softplus_grey_6x6_no_type_b", seed=3404,
         description="MMD-VAE (alpha=1, lambda=50), 1x6x6, encoder dense 7, 5, k=2, PixelCNN decoder: 3 channels, "
                     "type A 3x3, no type B layer, out 1x1; Gaussian obs_log_var=-0.3, softplus, RBF h=1.5 unbiased, M=4 != B=5",
         image=[1, 6, 6], encoder_hidden=[7, 5], latent_dim=2, pixelcnn=(3, 0, 3, 3),
         activation="softplus", likelihood="gaussian", obs_log_var=-0.3, batch=5, prior=4,
         alpha=1.0, lam=50.0, kernel="rbf", kernel_params={"bandwidth": 1.5}, estimator="unbiased"),
]


# ----------------------------------------------------------------------------------------------------
# Shared math (used by the generator; the verifier has its own versions below)
# ----------------------------------------------------------------------------------------------------

def softplus_exact(t):
    """log(1 + e^t) without F.softplus's threshold (it returns t for t > 20, off by ~2e-9)."""
    return torch.clamp(t, min=0) + torch.log1p(torch.exp(-torch.abs(t)))


def activate(t, name):
    if name == "relu":
        return F.relu(t)
    if name == "leaky_relu":
        return F.leaky_relu(t, 0.01)
    if name == "tanh":
        return torch.tanh(t)
    if name == "softplus":
        return softplus_exact(t)
    raise ValueError(name)


def conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def mirror_deconv(image, conv):
    """The decoder's transposed convs: deconv j mirrors conv L-1-j and restores its input size exactly."""
    channels, h, w = image
    inputs = []  # (in_channels, H_in, W_in) of each conv
    for (out_ch, k, s, p) in conv:
        inputs.append((channels, h, w))
        h, w, channels = conv_out(h, k, s, p), conv_out(w, k, s, p), out_ch
        if h < 1 or w < 1:
            raise ValueError(f"conv {conv} shrinks {image} to nothing")
    deconv = []
    for (out_ch, k, s, p), (in_ch, h_in, w_in) in reversed(list(zip(conv, inputs))):
        h_out, w_out = conv_out(h_in, k, s, p), conv_out(w_in, k, s, p)
        op = [h_in - ((h_out - 1) * s - 2 * p + k), w_in - ((w_out - 1) * s - 2 * p + k)]
        if not all(0 <= o < s for o in op):
            raise ValueError(f"output padding {op} not in [0, {s}) for {image} {conv}")
        deconv.append({"channels": in_ch, "kernel": k, "stride": s, "padding": p, "output_padding": op})
    return deconv, (channels, h, w)


def mmd2(a, b, kernel, kernel_params, estimator):
    def gram(u, v):
        d2 = ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)
        if kernel == "rbf":
            h = kernel_params["bandwidth"]
            return torch.exp(-d2 / (2.0 * h * h))
        c = kernel_params["c"]
        return c / (c + d2)

    n, m = a.shape[0], b.shape[0]
    kaa, kbb, kab = gram(a, a), gram(b, b), gram(a, b)
    if estimator == "unbiased":
        return ((kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
                + (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
                - 2.0 * kab.sum() / (n * m))
    return kaa.sum() / (n * n) + kbb.sum() / (m * m) - 2.0 * kab.sum() / (n * m)


def tc_decomposition(mu, logvar, z, objective):
    """beta-TC-VAE's minibatch-weighted estimates (index-code MI, total correlation, dimension-wise KL), batch means."""
    b = z.shape[0]
    log_norm = math.log(objective["dataset_size"] * b)
    log_q = -0.5 * (LOG_2PI + logvar[None, :, :] + (z[:, None, :] - mu[None, :, :]) ** 2 * torch.exp(-logvar[None, :, :]))
    log_qz = torch.logsumexp(log_q.sum(2), dim=1) - log_norm
    log_qz_product = (torch.logsumexp(log_q, dim=1) - log_norm).sum(1)
    log_qz_x = torch.diagonal(log_q, dim1=0, dim2=1).sum(0)
    log_pz = (-0.5 * (LOG_2PI + z ** 2)).sum(1)
    return ((log_qz_x - log_qz).mean(), (log_qz - log_qz_product).mean(), (log_qz_product - log_pz).mean())


def objective_terms(x, mu, logvar, z, out, model, objective, prior_z):
    if model["likelihood"] == "bernoulli":
        log_p = (x * out - softplus_exact(out)).sum(1)
    else:
        s = model["obs_log_var"]
        log_p = -0.5 * ((x - out) ** 2 * math.exp(-s) + s + LOG_2PI).sum(1)
    recon = -log_p.mean()
    kl = (0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)).sum(1).mean()
    mmd = mmd2(z, prior_z, objective["kernel"], objective["kernel_params"], objective["estimator"])
    alpha, lam = objective["alpha"], objective["lambda"]
    loss = recon + (1.0 - alpha) * kl + (alpha + lam - 1.0) * mmd
    return recon, kl, mmd, loss


# ----------------------------------------------------------------------------------------------------
# Generator: nn.Module layers in float64
# ----------------------------------------------------------------------------------------------------

class ConvVae(nn.Module):
    def __init__(self, model):
        super().__init__()
        f64 = dict(dtype=torch.float64)
        self.model = model
        channels, _, _ = model["image"]
        self.enc_conv = nn.ModuleList()
        for layer in model["conv"]:
            self.enc_conv.append(nn.Conv2d(channels, layer["channels"], layer["kernel"], layer["stride"],
                                           layer["padding"], **f64))
            channels = layer["channels"]
        _, (c_l, h_l, w_l) = mirror_deconv(
            model["image"], [(l["channels"], l["kernel"], l["stride"], l["padding"]) for l in model["conv"]])
        self.feature_shape = (c_l, h_l, w_l)
        width = c_l * h_l * w_l
        self.enc_dense = nn.ModuleList()
        for n in model["encoder_hidden"]:
            self.enc_dense.append(nn.Linear(width, n, **f64))
            width = n
        k = model["latent_dim"]
        self.mu = nn.Linear(width, k, **f64)
        self.logvar = nn.Linear(width, k, **f64)
        width = k
        self.dec_dense = nn.ModuleList()
        for n in model["decoder_hidden"] + [c_l * h_l * w_l]:  # the last one is the reshape layer
            self.dec_dense.append(nn.Linear(width, n, **f64))
            width = n
        self.dec_deconv = nn.ModuleList()
        channels = c_l
        for layer in model["deconv"]:
            self.dec_deconv.append(nn.ConvTranspose2d(
                channels, layer["channels"], layer["kernel"], layer["stride"], layer["padding"],
                tuple(layer["output_padding"]), **f64))
            channels = layer["channels"]

    def named_fixture_params(self):
        """(fixture name, tensor) in the documented naming, in a stable order."""
        out = []
        for i, m in enumerate(self.enc_conv):
            out += [(f"encoder.conv.{i}.weight", m.weight), (f"encoder.conv.{i}.bias", m.bias)]
        for j, m in enumerate(self.enc_dense):
            out += [(f"encoder.{j}.weight", m.weight), (f"encoder.{j}.bias", m.bias)]
        out += [("encoder.mu.weight", self.mu.weight), ("encoder.mu.bias", self.mu.bias),
                ("encoder.logvar.weight", self.logvar.weight), ("encoder.logvar.bias", self.logvar.bias)]
        for j, m in enumerate(self.dec_dense):
            out += [(f"decoder.{j}.weight", m.weight), (f"decoder.{j}.bias", m.bias)]
        for i, m in enumerate(self.dec_deconv[:-1]):
            out += [(f"decoder.deconv.{i}.weight", m.weight), (f"decoder.deconv.{i}.bias", m.bias)]
        last = self.dec_deconv[-1]
        out += [("decoder.out.weight", last.weight), ("decoder.out.bias", last.bias)]
        return out

    def forward(self, x, eps):
        act = self.model["activation"]
        h = x.reshape(x.shape[0], *self.model["image"])
        for m in self.enc_conv:
            h = activate(m(h), act)
        h = h.flatten(1)
        for m in self.enc_dense:
            h = activate(m(h), act)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        h = z
        for m in self.dec_dense:  # includes the reshape layer, which is activated too
            h = activate(m(h), act)
        h = h.reshape(h.shape[0], *self.feature_shape)
        for i, m in enumerate(self.dec_deconv):
            h = m(h)
            if i < len(self.dec_deconv) - 1:
                h = activate(h, act)
        return mu, logvar, z, h.flatten(1)


class DenseVae(nn.Module):
    """The dense MLP of ../shared/golden/README.md: hidden layers (activated), two heads, decoder hidden, decoder.out."""

    def __init__(self, model):
        super().__init__()
        f64 = dict(dtype=torch.float64)
        self.model = model
        width = model["input_dim"]
        self.enc = nn.ModuleList()
        for n in model["encoder_hidden"]:
            self.enc.append(nn.Linear(width, n, **f64))
            width = n
        k = model["latent_dim"]
        self.mu, self.logvar = nn.Linear(width, k, **f64), nn.Linear(width, k, **f64)
        width = k
        self.dec = nn.ModuleList()
        for n in model["decoder_hidden"]:
            self.dec.append(nn.Linear(width, n, **f64))
            width = n
        self.out = nn.Linear(width, model["input_dim"], **f64)

    def named_fixture_params(self):
        out = []
        for i, m in enumerate(self.enc):
            out += [(f"encoder.{i}.weight", m.weight), (f"encoder.{i}.bias", m.bias)]
        out += [("encoder.mu.weight", self.mu.weight), ("encoder.mu.bias", self.mu.bias),
                ("encoder.logvar.weight", self.logvar.weight), ("encoder.logvar.bias", self.logvar.bias)]
        for i, m in enumerate(self.dec):
            out += [(f"decoder.{i}.weight", m.weight), (f"decoder.{i}.bias", m.bias)]
        return out + [("decoder.out.weight", self.out.weight), ("decoder.out.bias", self.out.bias)]

    def forward(self, x, eps):
        act, h = self.model["activation"], x
        for m in self.enc:
            h = activate(m(h), act)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        h = z
        for m in self.dec:
            h = activate(m(h), act)
        return mu, logvar, z, self.out(h)


def dense_model_dict(case):
    model = {"input_dim": case["d"], "encoder_hidden": list(case["encoder_hidden"]), "latent_dim": case["latent_dim"],
             "decoder_hidden": list(case["decoder_hidden"]), "activation": case["activation"],
             "likelihood": case["likelihood"]}
    if case["likelihood"] == "gaussian":
        model["obs_log_var"] = case["obs_log_var"]
    return model


def model_dict(case):
    conv = [{"channels": c, "kernel": k, "stride": s, "padding": p} for (c, k, s, p) in case["conv"]]
    deconv, _ = mirror_deconv(case["image"], case["conv"])
    c, h, w = case["image"]
    model = {"arch": "conv", "input_dim": c * h * w, "image": list(case["image"]), "conv": conv,
             "encoder_hidden": list(case["encoder_hidden"]), "latent_dim": case["latent_dim"],
             "decoder_hidden": list(case["decoder_hidden"]), "deconv": deconv,
             "activation": case["activation"], "likelihood": case["likelihood"]}
    if case["likelihood"] == "gaussian":
        model["obs_log_var"] = case["obs_log_var"]
    return model


def make_inputs(case, d, gen):
    b, k = case["batch"], case["latent_dim"]
    x = torch.rand(b, d, generator=gen, dtype=torch.float64)
    if case["likelihood"] == "bernoulli":
        u = torch.rand(b, d, generator=gen, dtype=torch.float64)
        x = torch.where(u < 0.2, torch.zeros_like(x), torch.where(u > 0.9, torch.ones_like(x), x))
    eps = torch.randn(b, k, generator=gen, dtype=torch.float64)
    prior_z = torch.randn(case["prior"], k, generator=gen, dtype=torch.float64)
    return x, eps, prior_z


def case_objective(case):
    objective = {"alpha": case["alpha"], "lambda": case["lam"], "kernel": case["kernel"],
                 "kernel_params": dict(case["kernel_params"]), "estimator": case["estimator"]}
    if "tc_beta" in case:
        objective.update(tc_beta=case["tc_beta"], dataset_size=case["dataset_size"])
    return objective


def masked_gradients(loss, named, masks):
    """d loss / d each named tensor, checking that masked entries are zero in the weight and, through W (.) M, in its gradient."""
    grads = torch.autograd.grad(loss, [p for _, p in named])
    for (n, p), g in zip(named, grads):
        if n in masks:
            off = masks[n] == 0
            assert (p.detach()[off] == 0).all() and (g[off] == 0).all(), n
    return grads


def build_fixture(case):
    dense = "conv" not in case
    model = dense_model_dict(case) if dense else model_dict(case)
    torch.manual_seed(case["seed"])  # the default init of nn layers draws from the global generator
    net = DenseVae(model) if dense else ConvVae(model)
    gen = torch.Generator().manual_seed(case["seed"] + 1)
    x, eps, prior_z = make_inputs(case, model["input_dim"], gen)
    objective = case_objective(case)
    mu, logvar, z, out = net(x, eps)
    recon, kl, mmd, loss = objective_terms(x, mu, logvar, z, out, model, objective, prior_z)
    tc_terms = {}
    if "tc_beta" in objective:
        mi, tc, dwkl = tc_decomposition(mu, logvar, z, objective)
        loss = recon + mi + objective["tc_beta"] * tc + dwkl
        tc_terms = {"index_code_mi": mi.item(), "total_correlation": tc.item(), "dimension_wise_kl": dwkl.item()}
    named = net.named_fixture_params()
    grads = torch.autograd.grad(loss, [p for _, p in named])
    return {
        "name": case["name"], "description": case["description"], "model": model, "objective": objective,
        "params": {n: p.detach().tolist() for n, p in named},
        "x": x.tolist(), "eps": eps.tolist(), "prior_z": prior_z.tolist(),
        "expected": {"mu": mu.detach().tolist(), "logvar": logvar.detach().tolist(),
                     "z": z.detach().tolist(), "decoder_out": out.detach().tolist(),
                     "recon": recon.item(), "kl": kl.item(), "mmd": mmd.item(), "loss": loss.item(),
                     **tc_terms,
                     "grads": {n: g.tolist() for (n, _), g in zip(named, grads)}},
    }


# ----------------------------------------------------------------------------------------------------
# Generator: autoregressive models (MADE decoder, IAF posterior)
# ----------------------------------------------------------------------------------------------------

def hidden_degrees(width, hidden, n, rule):
    """A hidden layer's degrees over n ordered values by `made_degrees` (1-D integer tensor; see the docstring)."""
    if rule == "cyclic":
        return torch.arange(width) % (n - 1) + 1
    assert rule == "spread", rule
    narrowest = min(hidden)
    spread = lambda u: torch.div(torch.arange(u) * (n - 1), u, rounding_mode="floor") + 1
    return torch.cat([spread(narrowest), spread(width - narrowest)])


def made_masks(in_deg, hidden, n, out_deg, rule):
    """MADE masks over n ordered values: hidden degrees by `rule`; hidden M[u, v] = m_l(u) >= m_{l-1}(v);
    output M[j, u] = out_deg(j) > m_L(u). in_deg / out_deg are 1-D integer tensors."""
    masks, prev = [], in_deg
    for width in hidden:
        deg = hidden_degrees(width, hidden, n, rule)
        masks.append((deg[:, None] >= prev[None, :]).to(torch.float64))
        prev = deg
    return masks, (out_deg[:, None] > prev[None, :]).to(torch.float64)


class MaskedLinear(nn.Module):
    """(W (.) M) h + V c + b; W and b from nn.Linear(n_in, n_out), V from nn.Linear(n_cond, n_out, bias=False),
    both default-initialised, then W's masked entries set to exactly +0.0."""

    def __init__(self, n_in, n_out, n_cond, mask):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out, dtype=torch.float64)
        self.cond = nn.Linear(n_cond, n_out, bias=False, dtype=torch.float64)
        self.register_buffer("mask", mask)
        with torch.no_grad():
            self.lin.weight.mul_(mask).add_(0.0)  # x + 0.0 is x, except -0.0 -> +0.0

    def named(self, prefix):
        return [(prefix + ".weight", self.lin.weight), (prefix + ".cond.weight", self.cond.weight),
                (prefix + ".bias", self.lin.bias)]

    def forward(self, h, c):
        return F.linear(h, self.lin.weight * self.mask, self.lin.bias) + F.linear(c, self.cond.weight)


class ArVae(nn.Module):
    """Dense or conv encoder; Gaussian or IAF posterior; MLP or MADE decoder."""

    def __init__(self, model):
        super().__init__()
        f64 = dict(dtype=torch.float64)
        self.model = model
        d, k = model["input_dim"], model["latent_dim"]
        self.enc_conv = nn.ModuleList()
        if model.get("arch") == "conv":
            channels, h, w = model["image"]
            for layer in model["conv"]:
                self.enc_conv.append(nn.Conv2d(channels, layer["channels"], layer["kernel"], layer["stride"],
                                               layer["padding"], **f64))
                channels = layer["channels"]
                h = conv_out(h, layer["kernel"], layer["stride"], layer["padding"])
                w = conv_out(w, layer["kernel"], layer["stride"], layer["padding"])
            width = channels * h * w
        else:
            width = d
        self.enc_dense = nn.ModuleList()
        for n in model["encoder_hidden"]:
            self.enc_dense.append(nn.Linear(width, n, **f64))
            width = n
        self.mu = nn.Linear(width, k, **f64)
        self.logvar = nn.Linear(width, k, **f64)
        self.iaf = model.get("posterior") == "iaf"
        rule = model.get("made_degrees", "cyclic")
        self.flow = nn.ModuleList()
        if self.iaf:
            cdim = model["context_dim"]
            self.context = nn.Linear(width, cdim, **f64)
            for t in range(model["flow_steps"]):
                deg = torch.arange(1, k + 1) if t % 2 == 0 else torch.arange(k, 0, -1)
                hidden_masks, out_mask = made_masks(deg, model["flow_hidden"], k, deg, rule)
                step = nn.Module()
                step.hidden = nn.ModuleList()
                n_in = k
                for width_l, mask in zip(model["flow_hidden"], hidden_masks):
                    step.hidden.append(MaskedLinear(n_in, width_l, cdim, mask))
                    n_in = width_l
                step.m = MaskedLinear(n_in, k, cdim, out_mask)
                step.s = MaskedLinear(n_in, k, cdim, out_mask.clone())
                with torch.no_grad():
                    step.s.lin.bias.fill_(1.0)
                self.flow.append(step)
        self.made = model.get("decoder") == "made"
        if self.made:
            deg = torch.arange(1, d + 1)
            hidden_masks, out_mask = made_masks(deg, model["made_hidden"], d, deg, rule)
            self.dec_made = nn.ModuleList()
            n_in = d
            for width_l, mask in zip(model["made_hidden"], hidden_masks):
                self.dec_made.append(MaskedLinear(n_in, width_l, k, mask))
                n_in = width_l
            self.dec_out = MaskedLinear(n_in, d, k, out_mask)
        else:
            width = k
            self.dec_dense = nn.ModuleList()
            for n in model["decoder_hidden"]:
                self.dec_dense.append(nn.Linear(width, n, **f64))
                width = n
            self.dec_out = nn.Linear(width, d, **f64)

    def named_fixture_params(self):
        """(fixture name, tensor, mask or None) in the documented naming, in a stable order."""
        out = []
        for i, m in enumerate(self.enc_conv):
            out += [(f"encoder.conv.{i}.weight", m.weight), (f"encoder.conv.{i}.bias", m.bias)]
        for j, m in enumerate(self.enc_dense):
            out += [(f"encoder.{j}.weight", m.weight), (f"encoder.{j}.bias", m.bias)]
        out += [("encoder.mu.weight", self.mu.weight), ("encoder.mu.bias", self.mu.bias),
                ("encoder.logvar.weight", self.logvar.weight), ("encoder.logvar.bias", self.logvar.bias)]
        masks = {}

        def add_masked(prefix, m):
            out.extend(m.named(prefix))
            masks[prefix + ".weight"] = m.mask

        if self.iaf:
            out += [("encoder.context.weight", self.context.weight), ("encoder.context.bias", self.context.bias)]
            for t, step in enumerate(self.flow):
                for l, m in enumerate(step.hidden):
                    add_masked(f"flow.{t}.made.{l}", m)
                add_masked(f"flow.{t}.m", step.m)
                add_masked(f"flow.{t}.s", step.s)
        if self.made:
            for l, m in enumerate(self.dec_made):
                add_masked(f"decoder.made.{l}", m)
            add_masked("decoder.out", self.dec_out)
        else:
            for j, m in enumerate(self.dec_dense):
                out += [(f"decoder.{j}.weight", m.weight), (f"decoder.{j}.bias", m.bias)]
            out += [("decoder.out.weight", self.dec_out.weight), ("decoder.out.bias", self.dec_out.bias)]
        return out, masks

    def forward(self, x, eps):
        act = self.model["activation"]
        h = x
        if self.enc_conv:
            h = x.reshape(x.shape[0], *self.model["image"])
            for m in self.enc_conv:
                h = activate(m(h), act)
            h = h.flatten(1)
        for m in self.enc_dense:
            h = activate(m(h), act)
        mu, logvar = self.mu(h), self.logvar(h)
        z0 = mu + torch.exp(0.5 * logvar) * eps
        context, log_q, z = None, None, z0
        if self.iaf:
            context = self.context(h)
            log_det = torch.zeros(x.shape[0], dtype=torch.float64)
            for step in self.flow:
                g = z
                for m in step.hidden:
                    g = activate(m(g, context), act)
                mean, s = step.m(g, context), step.s(g, context)
                sigma = torch.sigmoid(s)
                log_det = log_det + (-softplus_exact(-s)).sum(1)  # log sigmoid(s), stably
                z = sigma * z + (1.0 - sigma) * mean
            log_q = (-0.5 * eps ** 2 - 0.5 * LOG_2PI - 0.5 * logvar).sum(1) - log_det
        if self.made:
            g = x
            for m in self.dec_made:
                g = activate(m(g, z), act)
            out = self.dec_out(g, z)
        else:
            g = z
            for m in self.dec_dense:
                g = activate(m(g), act)
            out = self.dec_out(g)
        return mu, logvar, context, z0, z, log_q, out


def ar_model_dict(case):
    model = {}
    if "image" in case:
        c, h, w = case["image"]
        model.update({"arch": "conv", "input_dim": c * h * w, "image": list(case["image"]),
                      "conv": [{"channels": ch, "kernel": k, "stride": s, "padding": p}
                               for (ch, k, s, p) in case["conv"]]})
    else:
        model["input_dim"] = case["d"]
    model.update({"encoder_hidden": list(case["encoder_hidden"]), "latent_dim": case["latent_dim"],
                  "decoder_hidden": list(case["decoder_hidden"]), "decoder": case["decoder"]})
    if case["decoder"] == "made":
        assert case["decoder_hidden"] == [] and model["input_dim"] >= 2
        model["made_hidden"] = list(case["made_hidden"])
    if case["flow"] is not None:
        steps, hidden, context = case["flow"]
        assert steps >= 1 and hidden and case["latent_dim"] >= 2
        model.update({"posterior": "iaf", "flow_steps": steps, "flow_hidden": list(hidden), "context_dim": context})
    if "made_degrees" in case:  # cases without it are the cyclic fixtures from before the key, written as they were
        model["made_degrees"] = case["made_degrees"]
    model.update({"activation": case["activation"], "likelihood": case["likelihood"]})
    if case["likelihood"] == "gaussian":
        model["obs_log_var"] = case["obs_log_var"]
    return model


def clean(t):
    """tolist() with -0.0 turned into +0.0 (x + 0.0 == x bit for bit otherwise)."""
    return (t.detach() + 0.0).tolist()


def build_ar_fixture(case):
    model = ar_model_dict(case)
    torch.manual_seed(case["seed"])  # the default init of nn layers draws from the global generator
    net = ArVae(model)
    gen = torch.Generator().manual_seed(case["seed"] + 1)
    x, eps, prior_z = make_inputs(case, model["input_dim"], gen)
    objective = case_objective(case)
    mu, logvar, context, z0, z, log_q, out = net(x, eps)
    recon, kl, mmd, loss = objective_terms(x, mu, logvar, z, out, model, objective, prior_z)
    if log_q is not None:  # the flow's single-sample KL estimate replaces the analytic one
        log_p = (-0.5 * z ** 2 - 0.5 * LOG_2PI).sum(1)
        kl = (log_q - log_p).mean()
        alpha, lam = objective["alpha"], objective["lambda"]
        loss = recon + (1.0 - alpha) * kl + (alpha + lam - 1.0) * mmd
    named, masks = net.named_fixture_params()
    grads = masked_gradients(loss, named, masks)
    expected = {"mu": clean(mu), "logvar": clean(logvar)}
    if context is not None:
        expected.update({"context": clean(context), "z0": clean(z0), "log_q": clean(log_q)})
    expected.update({"z": clean(z), "decoder_out": clean(out), "recon": recon.item(), "kl": kl.item(),
                     "mmd": mmd.item(), "loss": loss.item(),
                     "grads": {n: clean(g) for (n, _), g in zip(named, grads)}})
    return {
        "name": case["name"], "description": case["description"], "model": model, "objective": objective,
        "params": {n: clean(p) for n, p in named},
        "masks": {n: m.to(torch.int64).tolist() for n, m in masks.items()},
        "x": x.tolist(), "eps": eps.tolist(), "prior_z": prior_z.tolist(),
        "expected": expected,
    }


def write_all(folder):
    paths = []
    for build, case in ([(build_fixture, c) for c in DENSE_CASES + TC_CASES + CASES]
                        + [(build_ar_fixture, c) for c in AR_CASES]):
        path = os.path.join(folder, case["name"] + ".json")
        with open(path, "w") as f:
            json.dump(build(case), f, separators=(",", ":"))
            f.write("\n")
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------------------------------
# Generator: PixelCNN decoder (pixelcnn_*.json)
# ----------------------------------------------------------------------------------------------------

def pixelcnn_mask(n_out, n_in, kernel, colours, type_a):
    """M[o, i, ky, kx]: every tap before the centre, the centre by colour groups floor(j*C/n), none after it."""
    centre = (kernel // 2) * kernel + kernel // 2
    g_out = torch.arange(n_out) * colours // n_out
    g_in = torch.arange(n_in) * colours // n_in
    taps = torch.zeros(n_out, n_in, kernel * kernel, dtype=torch.float64)
    taps[:, :, :centre] = 1.0
    taps[:, :, centre] = ((g_out[:, None] > g_in[None, :]) if type_a else (g_out[:, None] >= g_in[None, :])).to(torch.float64)
    return taps.reshape(n_out, n_in, kernel, kernel)


class MaskedConv2d(nn.Conv2d):
    """conv2d(h, W (.) M, b) + (V z) per image and channel; W, b default nn.Conv2d, V a bias-free nn.Linear(n_cond,
    n_out), then W's masked entries set to exactly +0.0."""

    def __init__(self, n_in, n_out, kernel, n_cond, mask):
        super().__init__(n_in, n_out, kernel, padding=kernel // 2, dtype=torch.float64)
        self.cond = nn.Linear(n_cond, n_out, bias=False, dtype=torch.float64)
        self.register_buffer("mask", mask)
        with torch.no_grad():
            self.weight.mul_(mask).add_(0.0)  # x + 0.0 is x, except -0.0 -> +0.0

    def forward(self, h, z):
        return F.conv2d(h, self.weight * self.mask, self.bias, padding=self.padding) + self.cond(z)[:, :, None, None]


class PixelCnnVae(nn.Module):
    """The dense encoder of the README and a conditional PixelCNN decoder; named_parameters() gives the fixture's names."""

    def __init__(self, model):
        super().__init__()
        f64 = dict(dtype=torch.float64)
        self.model = model
        k, (colours, _, _) = model["latent_dim"], model["image"]
        features = model["pixelcnn_channels"]
        width = model["input_dim"]
        self.encoder = nn.Module()
        for j, n in enumerate(model["encoder_hidden"]):
            self.encoder.add_module(str(j), nn.Linear(width, n, **f64))
            width = n
        self.encoder.mu = nn.Linear(width, k, **f64)
        self.encoder.logvar = nn.Linear(width, k, **f64)
        self.decoder = nn.Module()
        self.decoder.pixelcnn = nn.ModuleList()
        kernels = [(model["pixelcnn_first_kernel"], True)] + [(model["pixelcnn_kernel"], False)] * model["pixelcnn_layers"]
        n_in = colours
        for kernel, type_a in kernels:
            self.decoder.pixelcnn.append(MaskedConv2d(n_in, features, kernel, k, pixelcnn_mask(features, n_in, kernel, colours, type_a)))
            n_in = features
        self.decoder.out = MaskedConv2d(features, colours, 1, k, pixelcnn_mask(colours, features, 1, colours, False))

    def forward(self, x, eps):
        act, h = self.model["activation"], x
        for j in range(len(self.model["encoder_hidden"])):
            h = activate(getattr(self.encoder, str(j))(h), act)
        mu, logvar = self.encoder.mu(h), self.encoder.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        g = x.reshape(x.shape[0], *self.model["image"])
        for m in self.decoder.pixelcnn:
            g = activate(m(g, z), act)
        return mu, logvar, z, self.decoder.out(g, z).flatten(1)


def pixelcnn_model_dict(case):
    c, h, w = case["image"]
    features, layers, kernel, first = case["pixelcnn"]
    model = {"input_dim": c * h * w, "image": list(case["image"]), "encoder_hidden": list(case["encoder_hidden"]),
             "latent_dim": case["latent_dim"], "decoder_hidden": [], "decoder": "pixelcnn",
             "pixelcnn_channels": features, "pixelcnn_first_kernel": first, "pixelcnn_layers": layers,
             "pixelcnn_kernel": kernel, "activation": case["activation"], "likelihood": case["likelihood"]}
    if case["likelihood"] == "gaussian":
        model["obs_log_var"] = case["obs_log_var"]
    return model


def build_pixelcnn_fixture(case):
    model = pixelcnn_model_dict(case)
    torch.manual_seed(case["seed"])  # the default init of nn layers draws from the global generator
    net = PixelCnnVae(model)
    gen = torch.Generator().manual_seed(case["seed"] + 1)
    x, eps, prior_z = make_inputs(case, model["input_dim"], gen)
    objective = case_objective(case)
    mu, logvar, z, out = net(x, eps)
    recon, kl, mmd, loss = objective_terms(x, mu, logvar, z, out, model, objective, prior_z)
    named = list(net.named_parameters())
    masks = {n + ".weight": m.mask for n, m in net.named_modules() if isinstance(m, MaskedConv2d)}
    grads = masked_gradients(loss, named, masks)
    return {
        "name": case["name"], "description": case["description"], "model": model, "objective": objective,
        "params": {n: clean(p) for n, p in named},
        "masks": {n: m.to(torch.int64).tolist() for n, m in masks.items()},
        "x": x.tolist(), "eps": eps.tolist(), "prior_z": prior_z.tolist(),
        "expected": {"mu": clean(mu), "logvar": clean(logvar), "z": clean(z), "decoder_out": clean(out),
                     "recon": recon.item(), "kl": kl.item(), "mmd": mmd.item(), "loss": loss.item(),
                     "grads": {n: clean(g) for (n, _), g in zip(named, grads)}},
    }


def write_pixelcnn(folder):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for case in PIXELCNN_CASES:
        path = os.path.join(folder, case["name"] + ".json")
        with open(path, "w") as f:
            json.dump(build_pixelcnn_fixture(case), f, separators=(",", ":"))
            f.write("\n")
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------------------------------
# Verifier: rebuilds the model from the JSON alone, with explicit index arithmetic instead of
# nn.Conv2d / nn.ConvTranspose2d, so that it checks the documented semantics, not just PyTorch's reuse.
# ----------------------------------------------------------------------------------------------------

def ref_conv2d(x, weight, bias, stride, padding):
    """out[b,o,i,j] = bias[o] + sum_{c,u,v} W[o,c,u,v] * xpad[b,c,i*s+u,j*s+v]."""
    n, _, h, w = x.shape
    out_ch, _, kh, kw = weight.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = bias.reshape(1, out_ch, 1, 1).expand(n, out_ch, ho, wo)
    for u in range(kh):
        for v in range(kw):
            patch = xp[:, :, u:u + stride * (ho - 1) + 1:stride, v:v + stride * (wo - 1) + 1:stride]
            out = out + torch.einsum("bcij,oc->boij", patch, weight[:, :, u, v])
    return out


def ref_conv_transpose2d(x, weight, bias, stride, padding, output_padding):
    """Scatter form: input pixel (i, j) adds W[c,o,u,v]*x to full-output pixel (i*s+u, j*s+v); the result
    is the full output cropped by `padding` at the top/left, of size (H-1)s - 2p + k + output_padding
    (output_padding extends the bottom/right edge, with zeros beyond the full output)."""
    n, _, h, w = x.shape
    _, out_ch, kh, kw = weight.shape
    oph, opw = output_padding
    full_h, full_w = (h - 1) * stride + kh, (w - 1) * stride + kw
    ho, wo = full_h - 2 * padding + oph, full_w - 2 * padding + opw
    buf = torch.zeros(n, out_ch, max(full_h, padding + ho), max(full_w, padding + wo), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            contrib = torch.einsum("bcij,co->boij", x, weight[:, :, u, v])
            buf[:, :, u:u + stride * (h - 1) + 1:stride, v:v + stride * (w - 1) + 1:stride] += contrib
    return buf[:, :, padding:padding + ho, padding:padding + wo] + bias.reshape(1, out_ch, 1, 1)


def ref_activation(t, name):
    return {"relu": lambda: torch.where(t > 0, t, torch.zeros_like(t)),
            "leaky_relu": lambda: torch.where(t > 0, t, 0.01 * t),
            "tanh": lambda: torch.tanh(t),
            "softplus": lambda: torch.log1p(torch.exp(-t.abs())) + torch.where(t > 0, t, torch.zeros_like(t)),
            }[name]()


def ref_mmd2(a, b, objective):
    """Same estimator written with ||u||^2 + ||v||^2 - 2 u.v and an explicit off-diagonal mask."""
    def gram(u, v):
        d2 = (u * u).sum(1)[:, None] + (v * v).sum(1)[None, :] - 2.0 * u @ v.T
        if objective["kernel"] == "rbf":
            return torch.exp(-d2 / (2.0 * objective["kernel_params"]["bandwidth"] ** 2))
        c = objective["kernel_params"]["c"]
        return c / (c + d2)

    n, m = a.shape[0], b.shape[0]
    if objective["estimator"] == "unbiased":
        off = lambda g, k: (g * (1.0 - torch.eye(k, dtype=g.dtype))).sum() / (k * (k - 1))
        return off(gram(a, a), n) + off(gram(b, b), m) - 2.0 * gram(a, b).mean()
    return gram(a, a).mean() + gram(b, b).mean() - 2.0 * gram(a, b).mean()


def check_structure(fx):
    """The layer lists, names and shapes are consistent with the documented rules."""
    model, params = fx["model"], fx["params"]
    assert model.get("arch") == "conv", "conv fixtures carry arch=conv"
    c, h, w = model["image"]
    assert model["input_dim"] == c * h * w
    shapes = [(c, h, w)]
    for layer in model["conv"]:
        k, s, p = layer["kernel"], layer["stride"], layer["padding"]
        shapes.append((layer["channels"], (shapes[-1][1] + 2 * p - k) // s + 1, (shapes[-1][2] + 2 * p - k) // s + 1))
    assert len(model["deconv"]) == len(model["conv"])
    cur = shapes[-1]
    for j, d in enumerate(model["deconv"]):
        conv, target = model["conv"][-1 - j], shapes[-2 - j]
        assert (d["kernel"], d["stride"], d["padding"]) == (conv["kernel"], conv["stride"], conv["padding"])
        assert d["channels"] == target[0]
        op = d["output_padding"]
        assert isinstance(op, list) and len(op) == 2 and all(0 <= o < d["stride"] for o in op), op
        nxt = tuple((cur[a] - 1) * d["stride"] - 2 * d["padding"] + d["kernel"] + op[a - 1] for a in (1, 2))
        assert nxt == target[1:], (nxt, target)
        cur = (d["channels"],) + nxt
    # A dense reader ignoring `arch` must not silently accept the file: its expected names/shapes differ.
    dense = dense_param_shapes(model)
    got = {n: tensor_shape(v) for n, v in params.items()}
    assert dense != got, "a dense reading would be indistinguishable"
    return shapes


def dense_param_shapes(model):
    shapes, width = {}, model["input_dim"]
    for i, n in enumerate(model["encoder_hidden"]):
        shapes[f"encoder.{i}.weight"], shapes[f"encoder.{i}.bias"], width = [n, width], [n], n
    for head in ("mu", "logvar"):
        shapes[f"encoder.{head}.weight"], shapes[f"encoder.{head}.bias"] = [model["latent_dim"], width], [model["latent_dim"]]
    width = model["latent_dim"]
    for i, n in enumerate(model["decoder_hidden"]):
        shapes[f"decoder.{i}.weight"], shapes[f"decoder.{i}.bias"], width = [n, width], [n], n
    shapes["decoder.out.weight"], shapes["decoder.out.bias"] = [model["input_dim"], width], [model["input_dim"]]
    return shapes


def tensor_shape(v):
    return [len(v)] + tensor_shape(v[0]) if isinstance(v, list) else []


def ref_forward(fx):
    """Rebuild and run the model from the JSON alone; returns (named leaf params, outputs)."""
    model = fx["model"]
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    P = {n: t(v).requires_grad_() for n, v in fx["params"].items()}
    act = model["activation"]
    x, eps = t(fx["x"]), t(fx["eps"])
    h = x.reshape(x.shape[0], *model["image"])
    for i, layer in enumerate(model["conv"]):
        h = ref_activation(ref_conv2d(h, P[f"encoder.conv.{i}.weight"], P[f"encoder.conv.{i}.bias"],
                                      layer["stride"], layer["padding"]), act)
    feature_shape = h.shape[1:]
    h = h.reshape(h.shape[0], -1)
    for j in range(len(model["encoder_hidden"])):
        h = ref_activation(h @ P[f"encoder.{j}.weight"].T + P[f"encoder.{j}.bias"], act)
    mu = h @ P["encoder.mu.weight"].T + P["encoder.mu.bias"]
    logvar = h @ P["encoder.logvar.weight"].T + P["encoder.logvar.bias"]
    z = mu + torch.exp(logvar / 2) * eps
    h = z
    for j in range(len(model["decoder_hidden"]) + 1):
        h = ref_activation(h @ P[f"decoder.{j}.weight"].T + P[f"decoder.{j}.bias"], act)
    h = h.reshape(h.shape[0], *feature_shape)
    last = len(model["deconv"]) - 1
    for i, layer in enumerate(model["deconv"]):
        prefix = "decoder.out" if i == last else f"decoder.deconv.{i}"
        h = ref_conv_transpose2d(h, P[prefix + ".weight"], P[prefix + ".bias"], layer["stride"],
                                 layer["padding"], layer["output_padding"])
        if i < last:
            h = ref_activation(h, act)
    assert list(h.shape[1:]) == model["image"]
    return P, x, mu, logvar, z, h.reshape(h.shape[0], -1)


def ref_dense_encoder(fx):
    """The README's dense encoder from the JSON alone: (named leaf params, x, mu, logvar, z)."""
    model = fx["model"]
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    P = {n: t(v).requires_grad_() for n, v in fx["params"].items()}
    act, x, eps = model["activation"], t(fx["x"]), t(fx["eps"])
    h = x
    for j in range(len(model["encoder_hidden"])):
        h = ref_activation(h @ P[f"encoder.{j}.weight"].T + P[f"encoder.{j}.bias"], act)
    mu = h @ P["encoder.mu.weight"].T + P["encoder.mu.bias"]
    logvar = h @ P["encoder.logvar.weight"].T + P["encoder.logvar.bias"]
    return P, x, mu, logvar, mu + torch.exp(logvar / 2) * eps


def ref_dense_forward(fx):
    """The dense model from the JSON alone, with the README's names and shapes checked first."""
    model = fx["model"]
    assert {n: tensor_shape(v) for n, v in fx["params"].items()} == dense_param_shapes(model), "dense names/shapes"
    P, x, mu, logvar, z = ref_dense_encoder(fx)
    act = model["activation"]
    h = z
    for j in range(len(model["decoder_hidden"])):
        h = ref_activation(h @ P[f"decoder.{j}.weight"].T + P[f"decoder.{j}.bias"], act)
    return P, x, mu, logvar, z, h @ P["decoder.out.weight"].T + P["decoder.out.bias"]


def verify_file(path):
    """Returns the largest relative deviation found; raises if a structural rule is broken."""
    with open(path) as f:
        fx = json.load(f)
    if fx["model"].get("decoder") == "pixelcnn":
        return verify_pixelcnn_file(path, fx)
    if is_autoregressive(fx["model"]):
        return verify_ar_file(path, fx)
    model, objective, exp = fx["model"], fx["objective"], fx["expected"]
    if model.get("arch") == "conv":
        check_structure(fx)
        P, x, mu, logvar, z, out = ref_forward(fx)
    else:
        P, x, mu, logvar, z, out = ref_dense_forward(fx)
    prior = torch.tensor(fx["prior_z"], dtype=torch.float64)
    if model["likelihood"] == "bernoulli":
        log_p = (x * out - ref_activation(out, "softplus")).sum(1)
    else:
        s = model["obs_log_var"]
        log_p = -0.5 * (((x - out) ** 2) / math.exp(s) + s + math.log(2 * math.pi)).sum(1)
    recon = -log_p.mean()
    var = logvar.exp()
    kl = 0.5 * (mu ** 2 + var - 1 - logvar).sum() / mu.shape[0]
    mmd = ref_mmd2(z, prior, objective)
    loss = recon + (1 - objective["alpha"]) * kl + (objective["alpha"] + objective["lambda"] - 1) * mmd
    tc_terms = {}
    if "tc_beta" in objective:
        assert objective["alpha"] == 1 and objective["lambda"] == 0, "a tcvae fixture weighs neither the KL nor the MMD"
        tc_terms = dict(zip(("index_code_mi", "total_correlation", "dimension_wise_kl"), ref_tc_decomposition(mu, logvar, z, objective)))
        loss = recon + tc_terms["index_code_mi"] + objective["tc_beta"] * tc_terms["total_correlation"] + tc_terms["dimension_wise_kl"]
    names = list(fx["params"])
    assert set(names) == set(exp["grads"])
    grads = torch.autograd.grad(loss, [P[n] for n in names])
    got = {"mu": mu, "logvar": logvar, "z": z, "decoder_out": out, "recon": recon, "kl": kl, "mmd": mmd,
           "loss": loss, **tc_terms}
    got.update({"grads." + n: g for n, g in zip(names, grads)})
    return compare_expected(path, got, exp)


def ref_tc_decomposition(mu, logvar, z, objective):
    """The decomposition again, row by row with torch.distributions (not the generator's broadcast formula)."""
    b, k = z.shape
    normal = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    log_norm = math.log(objective["dataset_size"]) + math.log(b)
    mi, tc, dwkl = [], [], []
    for i in range(b):
        log_q = normal.log_prob(z[i].expand(b, k))  # [j, d]: log q(z_i,d | x_j)
        joint = torch.logsumexp(log_q.sum(1), 0) - log_norm
        product = sum(torch.logsumexp(log_q[:, d], 0) - log_norm for d in range(k))
        prior = torch.distributions.Normal(0.0, 1.0).log_prob(z[i]).sum()
        mi.append(log_q[i].sum() - joint)
        tc.append(joint - product)
        dwkl.append(product - prior)
    return torch.stack(mi).mean(), torch.stack(tc).mean(), torch.stack(dwkl).mean()


def compare_expected(path, got, exp):
    """Max over `got` of |got - expected| / max(1, max |expected|); raises above TOLERANCE."""
    worst = 0.0
    for key, value in got.items():
        want = torch.tensor(exp["grads"][key[6:]] if key.startswith("grads.") else exp[key], dtype=torch.float64)
        assert tuple(want.shape) == tuple(value.shape), (key, want.shape, value.shape)
        assert torch.isfinite(want).all(), key
        # Absolute difference relative to the tensor's scale (floored at 1): MMD^2 and some grads are tiny
        # differences of O(1) sums, so a per-element relative check would only measure cancellation.
        scale = max(1.0, want.abs().max().item())
        err = (value.detach() - want).abs().max().item() / scale
        worst = max(worst, err)
        if not err <= TOLERANCE:
            raise AssertionError(f"{path}: {key} differs by {err:.3e} (relative to scale {scale:.3g})")
    return worst


# ---- verifier for the autoregressive fixtures (MADE decoder, IAF posterior) ------------------------------
# Masked layers are evaluated unit by unit, summing only the inputs the documented degree rule connects
# (recomputed here from the rule, never read from `masks`), so a masked weight entry is never even read: its
# gradient is zero by construction, and the stored masks / zeros are checked against the rule separately.
# The autoregressive property is then checked numerically on a PLAIN (unmasked) matmul forward of the stored
# weights, which only holds if the stored weights really are zero where the rule says.

def is_autoregressive(model):
    return "decoder" in model or "posterior" in model


def rule_degrees(n, input_degrees, hidden, rule):
    """[input degrees, hidden layer 0 degrees, ...] as plain lists, by `made_degrees`: cyclic, hidden unit u has
    degree 1 + (u mod (n-1)); spread, a layer of H units is S(w) then S(H - w), S(u)[j] = 1 + floor(j (n-1) / u)."""
    assert n >= 2, "a MADE needs at least two ordered values"
    assert rule in ("cyclic", "spread"), rule
    spread = lambda u: [1 + (j * (n - 1)) // u for j in range(u)]
    degrees = [list(input_degrees)]
    for width in hidden:
        degrees.append([1 + (u % (n - 1)) for u in range(width)] if rule == "cyclic"
                       else spread(min(hidden)) + spread(width - min(hidden)))
    return degrees


def rule_connected(out_degree, in_degree, output_layer):
    return out_degree > in_degree if output_layer else out_degree >= in_degree


def rule_mask(out_degrees, in_degrees, output_layer):
    return [[1 if rule_connected(o, i, output_layer) else 0 for i in in_degrees] for o in out_degrees]


def ref_masked_units(h, c, W, V, b, out_degrees, in_degrees, output_layer):
    """Unit by unit: b_j + sum_q V[j,q] c_q + sum over CONNECTED inputs i of W[j,i] h_i."""
    cols = []
    for j, o in enumerate(out_degrees):
        acc = b[j] + (c * V[j]).sum(1)
        for i, deg_in in enumerate(in_degrees):
            if rule_connected(o, deg_in, output_layer):
                acc = acc + W[j, i] * h[:, i]
        cols.append(acc)
    return torch.stack(cols, 1)


def ar_layout(model):
    """Expected {param name: shape}, {masked weight name: (out degrees, in degrees, output layer)}."""
    d, k = model["input_dim"], model["latent_dim"]
    shapes, masked = {}, {}
    rule = model.get("made_degrees", "cyclic")
    assert "made_degrees" not in model or model.get("decoder") == "made" or model.get("posterior") == "iaf", \
        "made_degrees without a MADE"
    if model.get("arch") == "conv":
        ch, h, w = model["image"]
        assert d == ch * h * w and "deconv" not in model
        for i, layer in enumerate(model["conv"]):
            kk, st, pd = layer["kernel"], layer["stride"], layer["padding"]
            shapes[f"encoder.conv.{i}.weight"], shapes[f"encoder.conv.{i}.bias"] = [layer["channels"], ch, kk, kk], [layer["channels"]]
            ch, h, w = layer["channels"], (h + 2 * pd - kk) // st + 1, (w + 2 * pd - kk) // st + 1
            assert h >= 1 and w >= 1
        width = ch * h * w
    else:
        assert "image" not in model and "conv" not in model and "deconv" not in model
        width = d
    for j, n in enumerate(model["encoder_hidden"]):
        shapes[f"encoder.{j}.weight"], shapes[f"encoder.{j}.bias"], width = [n, width], [n], n
    for head in ("mu", "logvar"):
        shapes[f"encoder.{head}.weight"], shapes[f"encoder.{head}.bias"] = [k, width], [k]
    posterior = model.get("posterior", "gaussian")
    assert posterior in ("gaussian", "iaf"), posterior
    if posterior == "iaf":
        steps, hidden, cdim = model["flow_steps"], model["flow_hidden"], model["context_dim"]
        assert steps >= 1 and len(hidden) >= 1 and k >= 2 and cdim >= 1
        shapes["encoder.context.weight"], shapes["encoder.context.bias"] = [cdim, width], [cdim]
        for t in range(steps):
            deg = [j + 1 for j in range(k)] if t % 2 == 0 else [k - j for j in range(k)]
            degrees = rule_degrees(k, deg, hidden, rule)
            for l in range(len(hidden)):
                name = f"flow.{t}.made.{l}"
                shapes[name + ".weight"] = [hidden[l], len(degrees[l])]
                shapes[name + ".cond.weight"], shapes[name + ".bias"] = [hidden[l], cdim], [hidden[l]]
                masked[name + ".weight"] = (degrees[l + 1], degrees[l], False)
            for head in ("m", "s"):
                name = f"flow.{t}.{head}"
                shapes[name + ".weight"] = [k, hidden[-1]]
                shapes[name + ".cond.weight"], shapes[name + ".bias"] = [k, cdim], [k]
                masked[name + ".weight"] = (deg, degrees[-1], True)
    else:
        assert not any(key in model for key in ("flow_steps", "flow_hidden", "context_dim"))
    decoder = model.get("decoder", "mlp")
    if decoder == "made":
        assert model["decoder_hidden"] == [], "a MADE decoder has no decoder_hidden"
        hidden = model["made_hidden"]
        m0 = [i + 1 for i in range(d)]
        degrees = rule_degrees(d, m0, hidden, rule)
        for l in range(len(hidden)):
            name = f"decoder.made.{l}"
            shapes[name + ".weight"] = [hidden[l], len(degrees[l])]
            shapes[name + ".cond.weight"], shapes[name + ".bias"] = [hidden[l], k], [hidden[l]]
            masked[name + ".weight"] = (degrees[l + 1], degrees[l], False)
        shapes["decoder.out.weight"] = [d, len(degrees[-1])]
        shapes["decoder.out.cond.weight"], shapes["decoder.out.bias"] = [d, k], [d]
        masked["decoder.out.weight"] = (m0, degrees[-1], True)
        if not hidden:  # the documented special case: strictly lower triangular
            assert rule_mask(m0, m0, True) == [[1 if i > q else 0 for q in range(d)] for i in range(d)]
    else:
        assert decoder == "mlp" and "made_hidden" not in model, decoder
        if model.get("arch") == "conv":
            raise AssertionError("a conv-encoder fixture without deconv must have the MADE decoder")
        width = k
        for j, n in enumerate(model["decoder_hidden"]):
            shapes[f"decoder.{j}.weight"], shapes[f"decoder.{j}.bias"], width = [n, width], [n], n
        shapes["decoder.out.weight"], shapes["decoder.out.bias"] = [d, width], [d]
    return shapes, masked


def ar_check_masks(fx, masked):
    """Stored masks == the degree rule; stored weights and stored gradients exactly 0 where the mask is 0."""
    assert set(fx["masks"]) == set(masked), (sorted(fx["masks"]), sorted(masked))
    zeros = 0
    for name, (out_deg, in_deg, output_layer) in masked.items():
        stored = fx["masks"][name]
        assert all(type(v) is int and v in (0, 1) for row in stored for v in row), name
        assert stored == rule_mask(out_deg, in_deg, output_layer), f"{name}: mask differs from the degree rule"
        for j, row in enumerate(stored):
            for i, keep in enumerate(row):
                if not keep:
                    zeros += 1
                    w, g = fx["params"][name][j][i], fx["expected"]["grads"][name][j][i]
                    assert w == 0.0 and g == 0.0, f"{name}[{j},{i}]: masked entry weight {w}, grad {g}"
    return zeros


def ar_ref_forward(fx, P):
    """The model from the JSON (and the degree rule) alone, masked layers unit by unit."""
    model = fx["model"]
    d, k, act = model["input_dim"], model["latent_dim"], model["activation"]
    rule = model.get("made_degrees", "cyclic")
    x, eps = (torch.tensor(fx[key], dtype=torch.float64) for key in ("x", "eps"))
    h = x
    if model.get("arch") == "conv":
        h = x.reshape(x.shape[0], *model["image"])
        for i, layer in enumerate(model["conv"]):
            h = ref_activation(ref_conv2d(h, P[f"encoder.conv.{i}.weight"], P[f"encoder.conv.{i}.bias"],
                                          layer["stride"], layer["padding"]), act)
        h = h.reshape(h.shape[0], -1)
    for j in range(len(model["encoder_hidden"])):
        h = ref_activation(h @ P[f"encoder.{j}.weight"].T + P[f"encoder.{j}.bias"], act)
    mu = h @ P["encoder.mu.weight"].T + P["encoder.mu.bias"]
    logvar = h @ P["encoder.logvar.weight"].T + P["encoder.logvar.bias"]
    sd = torch.exp(logvar / 2)
    z0 = mu + sd * eps
    out = {"mu": mu, "logvar": logvar, "z0": z0}
    z = z0
    if model.get("posterior") == "iaf":
        c = h @ P["encoder.context.weight"].T + P["encoder.context.bias"]
        # log density of z0 under N(mu, sd^2), written out (not via eps), minus the log-dets of the steps
        log_q = (-0.5 * ((z0 - mu) / sd) ** 2 - torch.log(sd) - 0.5 * math.log(2 * math.pi)).sum(1)
        out["steps"] = []
        for t in range(model["flow_steps"]):
            deg = [j + 1 for j in range(k)] if t % 2 == 0 else [k - j for j in range(k)]
            degrees = rule_degrees(k, deg, model["flow_hidden"], rule)
            g = z
            for l in range(len(model["flow_hidden"])):
                pre = f"flow.{t}.made.{l}"
                g = ref_activation(ref_masked_units(g, c, P[pre + ".weight"], P[pre + ".cond.weight"], P[pre + ".bias"],
                                                    degrees[l + 1], degrees[l], False), act)
            m, s = (ref_masked_units(g, c, P[f"flow.{t}.{o}.weight"], P[f"flow.{t}.{o}.cond.weight"],
                                     P[f"flow.{t}.{o}.bias"], deg, degrees[-1], True) for o in ("m", "s"))
            assert s.detach().abs().max() < 30, "log(sigmoid(s)) below is only accurate for moderate s"
            sigma = torch.sigmoid(s)
            out["steps"].append((z.detach(), m.detach(), s.detach()))
            z = m + sigma * (z - m)  # = sigma z + (1 - sigma) m
            log_q = log_q - torch.log(sigma).sum(1)
        out.update({"context": c, "log_q": log_q})
    out["z"] = z
    if model.get("decoder", "mlp") == "made":
        m0 = [i + 1 for i in range(d)]
        degrees = rule_degrees(d, m0, model["made_hidden"], rule)
        g = x
        for l in range(len(model["made_hidden"])):
            pre = f"decoder.made.{l}"
            g = ref_activation(ref_masked_units(g, z, P[pre + ".weight"], P[pre + ".cond.weight"], P[pre + ".bias"],
                                                degrees[l + 1], degrees[l], False), act)
        y = ref_masked_units(g, z, P["decoder.out.weight"], P["decoder.out.cond.weight"], P["decoder.out.bias"],
                             m0, degrees[-1], True)
    else:
        g = z
        for j in range(len(model["decoder_hidden"])):
            g = ref_activation(g @ P[f"decoder.{j}.weight"].T + P[f"decoder.{j}.bias"], act)
        y = g @ P["decoder.out.weight"].T + P["decoder.out.bias"]
    out["decoder_out"] = y
    return x, out


def plain_made(h, c, Q, prefixes, heads, act):
    """The MADE with PLAIN matmuls of the stored (unmasked) weights: hidden layers, then each head."""
    for pre in prefixes:
        h = ref_activation(h @ Q[pre + ".weight"].T + c @ Q[pre + ".cond.weight"].T + Q[pre + ".bias"], act)
    return [h @ Q[o + ".weight"].T + c @ Q[o + ".cond.weight"].T + Q[o + ".bias"] for o in heads]


def ar_check_autoregressive(fx, out, x):
    """Perturb the inputs an output must not see; that output must not move (bit for bit, since the stored
    weights are exactly zero there). Also checks the plain forward agrees with the unit-by-unit one."""
    model = fx["model"]
    act, d, k = model["activation"], model["input_dim"], model["latent_dim"]
    Q = {n: torch.tensor(v, dtype=torch.float64) for n, v in fx["params"].items()}
    gen = torch.Generator().manual_seed(12345)
    moved = 0
    if model.get("decoder", "mlp") == "made":
        z = out["z"].detach()
        prefixes = [f"decoder.made.{l}" for l in range(len(model["made_hidden"]))]
        base, = plain_made(x, z, Q, prefixes, ["decoder.out"], act)
        err = (base - out["decoder_out"].detach()).abs().max().item() / max(1.0, base.abs().max().item())
        assert err <= TOLERANCE, f"plain MADE decoder differs from the unit-by-unit one by {err:.3e}"
        for i in range(d):
            for trial in range(3):
                xp = x.clone()
                xp[:, i:] += 3.0 * torch.randn(xp[:, i:].shape, generator=gen, dtype=torch.float64)
                yp, = plain_made(xp, z, Q, prefixes, ["decoder.out"], act)
                assert torch.equal(yp[:, :i + 1], base[:, :i + 1]), f"decoder outputs <= {i} moved with inputs >= {i}"
                xq = x.clone()
                xq[:, :i] += 3.0 * torch.randn(xq[:, :i].shape, generator=gen, dtype=torch.float64)
                yq, = plain_made(xq, z, Q, prefixes, ["decoder.out"], act)
                moved += int(not torch.equal(yq[:, i], base[:, i]))
    if model.get("posterior") == "iaf":
        c = out["context"].detach()
        for t, (zin, m_ref, s_ref) in enumerate(out["steps"]):
            deg = [j + 1 for j in range(k)] if t % 2 == 0 else [k - j for j in range(k)]
            prefixes = [f"flow.{t}.made.{l}" for l in range(len(model["flow_hidden"]))]
            m0, s0 = plain_made(zin, c, Q, prefixes, [f"flow.{t}.m", f"flow.{t}.s"], act)
            err = max((m0 - m_ref).abs().max().item() / max(1.0, m0.abs().max().item()),
                      (s0 - s_ref).abs().max().item() / max(1.0, s0.abs().max().item()))
            assert err <= TOLERANCE, f"plain flow step {t} differs from the unit-by-unit one by {err:.3e}"
            for j in range(k):
                later = [q for q in range(k) if deg[q] >= deg[j]]   # includes j itself
                earlier = [q for q in range(k) if deg[q] < deg[j]]
                for trial in range(3):
                    zp = zin.clone()
                    zp[:, later] += 3.0 * torch.randn(zp[:, later].shape, generator=gen, dtype=torch.float64)
                    mp, sp = plain_made(zp, c, Q, prefixes, [f"flow.{t}.m", f"flow.{t}.s"], act)
                    assert torch.equal(mp[:, j], m0[:, j]) and torch.equal(sp[:, j], s0[:, j]), \
                        f"flow step {t}: m/s {j} (degree {deg[j]}) moved with inputs of degree >= {deg[j]}"
                    if earlier:
                        zq = zin.clone()
                        zq[:, earlier] += 3.0 * torch.randn(zq[:, earlier].shape, generator=gen, dtype=torch.float64)
                        mq, sq = plain_made(zq, c, Q, prefixes, [f"flow.{t}.m", f"flow.{t}.s"], act)
                        moved += int(not (torch.equal(mq[:, j], m0[:, j]) and torch.equal(sq[:, j], s0[:, j])))
    assert moved > 0, "no output ever depends on the inputs it may see: the check is vacuous"
    return moved


def verify_ar_file(path, fx):
    model, objective, exp = fx["model"], fx["objective"], fx["expected"]
    shapes, masked = ar_layout(model)
    got_shapes = {n: tensor_shape(v) for n, v in fx["params"].items()}
    assert got_shapes == shapes, f"parameter names / shapes differ from the documented layout: {got_shapes} vs {shapes}"
    assert {n: tensor_shape(v) for n, v in exp["grads"].items()} == shapes
    for name in masked:
        assert tensor_shape(fx["masks"][name]) == shapes[name], name
    ar_check_masks(fx, masked)
    P = {n: torch.tensor(v, dtype=torch.float64).requires_grad_() for n, v in fx["params"].items()}
    x, out = ar_ref_forward(fx, P)
    iaf = model.get("posterior") == "iaf"
    assert set(exp) == {"mu", "logvar", "z", "decoder_out", "recon", "kl", "mmd", "loss", "grads"} | (
        {"context", "z0", "log_q"} if iaf else set()), sorted(exp)
    y = out["decoder_out"]
    if model["likelihood"] == "bernoulli":
        log_px = (x * y - ref_activation(y, "softplus")).sum(1)
    else:
        s = model["obs_log_var"]
        log_px = -0.5 * (((x - y) ** 2) / math.exp(s) + s + math.log(2 * math.pi)).sum(1)
    recon = -log_px.mean()
    mu, logvar, z = out["mu"], out["logvar"], out["z"]
    if iaf:
        log_pz = -0.5 * (z ** 2).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
        kl = out["log_q"].mean() - log_pz.mean()
    else:
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum() / mu.shape[0]
    mmd = ref_mmd2(z, torch.tensor(fx["prior_z"], dtype=torch.float64), objective)
    loss = recon + (1 - objective["alpha"]) * kl + (objective["alpha"] + objective["lambda"] - 1) * mmd
    names = list(fx["params"])
    grads = torch.autograd.grad(loss, [P[n] for n in names], allow_unused=True)
    grads = [torch.zeros_like(P[n]) if g is None else g for n, g in zip(names, grads)]
    for n, g in zip(names, grads):  # never-read masked entries: zero gradient by construction
        if n in masked:
            keep = torch.tensor(fx["masks"][n]) == 1
            assert (g[~keep] == 0).all(), n
    got = {key: out[key] for key in ("mu", "logvar", "z", "decoder_out") + (("context", "z0", "log_q") if iaf else ())}
    got.update({"recon": recon, "kl": kl, "mmd": mmd, "loss": loss})
    got.update({"grads." + n: g for n, g in zip(names, grads)})
    worst = compare_expected(path, got, exp)
    ar_check_autoregressive(fx, out, x)
    return worst


# ---- verifier for the PixelCNN-decoder fixtures ----------------------------------------------------------
# The masks are recomputed from the documented rule with plain loops (never read from `masks`, then compared);
# each masked conv is summed tap by tap over the (output, input) pairs the rule connects only, from the padded
# input's shifted views, so a masked weight entry is never read. The autoregressive property is then checked on a
# PLAIN F.conv2d forward of the stored (unmasked) weights, which only holds if they really are zero where masked.

def pixelcnn_rule(o, i, ky, kx, n_out, n_in, kernel, colours, type_a):
    r = (kernel - 1) // 2
    if ky < r or (ky == r and kx < r):
        return True
    if ky == r and kx == r:
        g_out, g_in = (o * colours) // n_out, (i * colours) // n_in
        return g_out > g_in if type_a else g_out >= g_in
    return False


def pixelcnn_layout(model):
    """Expected {param name: shape} and {masked weight name: (in, out, kernel, type A)} from the documented keys."""
    d, k, (colours, h, w) = model["input_dim"], model["latent_dim"], model["image"]
    features, layers = model["pixelcnn_channels"], model["pixelcnn_layers"]
    first, kernel = model["pixelcnn_first_kernel"], model["pixelcnn_kernel"]
    assert d == colours * h * w and model["decoder_hidden"] == [] and features >= colours and layers >= 0
    assert first >= 3 and first % 2 == 1 and kernel >= 1 and kernel % 2 == 1
    assert not any(key in model for key in ("arch", "conv", "deconv", "posterior", "made_hidden"))
    shapes, masked, width = {}, {}, d
    for j, n in enumerate(model["encoder_hidden"]):
        shapes[f"encoder.{j}.weight"], shapes[f"encoder.{j}.bias"], width = [n, width], [n], n
    for head in ("mu", "logvar"):
        shapes[f"encoder.{head}.weight"], shapes[f"encoder.{head}.bias"] = [k, width], [k]
    convs = [(colours, features, first, True)] + [(features, features, kernel, False)] * layers
    names = [f"decoder.pixelcnn.{i}" for i in range(len(convs))] + ["decoder.out"]
    for name, (n_in, n_out, kk, type_a) in zip(names, convs + [(features, colours, 1, False)]):
        shapes[name + ".weight"], shapes[name + ".cond.weight"], shapes[name + ".bias"] = [n_out, n_in, kk, kk], [n_out, k], [n_out]
        masked[name + ".weight"] = (n_in, n_out, kk, type_a)
    return shapes, masked, names


def pixelcnn_rule_mask(n_in, n_out, kernel, colours, type_a):
    return [[[[1 if pixelcnn_rule(o, i, ky, kx, n_out, n_in, kernel, colours, type_a) else 0 for kx in range(kernel)]
              for ky in range(kernel)] for i in range(n_in)] for o in range(n_out)]


def ref_pixelcnn_conv(h, W, V, b, z, kernel, colours, type_a):
    """Tap by tap over the connected (o, i) pairs: b[o] + V[o].z + sum W[o,i,ky,kx] * h_pad[:, i, y+ky, x+kx]."""
    n, n_in, height, width = h.shape
    n_out, r = W.shape[0], (kernel - 1) // 2
    hp = F.pad(h, (r, r, r, r))
    cols = []
    for o in range(n_out):
        acc = (b[o] + z @ V[o]).reshape(n, 1, 1).expand(n, height, width)
        for i in range(n_in):
            for ky in range(kernel):
                for kx in range(kernel):
                    if pixelcnn_rule(o, i, ky, kx, n_out, n_in, kernel, colours, type_a):
                        acc = acc + W[o, i, ky, kx] * hp[:, i, ky:ky + height, kx:kx + width]
        cols.append(acc)
    return torch.stack(cols, 1)


def pixelcnn_position(index, image):
    """The drawing position of NCHW index `index`: pixel-major, channel within the pixel."""
    colours, h, w = image
    return (index % (h * w)) * colours + index // (h * w)


def pixelcnn_check_autoregressive(fx, z, base_ref, names, convs):
    """Values at positions >= q never move outputs at positions <= q (bit for bit, plain conv2d of the stored
    weights); the value at q - 1, where it is the previous channel or the left pixel, does move output q."""
    model = fx["model"]
    act, image = model["activation"], model["image"]
    colours, height, width = image
    d = model["input_dim"]
    Q = {n: torch.tensor(v, dtype=torch.float64) for n, v in fx["params"].items()}

    def plain(x):
        g = x.reshape(x.shape[0], *image)
        for name, (_, _, kk, _) in zip(names, convs):
            pre = F.conv2d(g, Q[name + ".weight"], Q[name + ".bias"], padding=kk // 2) + (z @ Q[name + ".cond.weight"].T)[:, :, None, None]
            g = pre if name == "decoder.out" else ref_activation(pre, act)
        return g.flatten(1)

    x = torch.tensor(fx["x"], dtype=torch.float64)
    base = plain(x)
    err = (base - base_ref).abs().max().item() / max(1.0, base.abs().max().item())
    assert err <= TOLERANCE, f"plain PixelCNN decoder differs from the tap-by-tap one by {err:.3e}"
    position = torch.tensor([pixelcnn_position(e, image) for e in range(d)])
    gen = torch.Generator().manual_seed(54321)
    moved = 0
    for q in range(d):
        later, upto = position >= q, position <= q
        xp = x.clone()
        xp[:, later] += 3.0 * torch.randn(xp[:, later].shape, generator=gen, dtype=torch.float64)
        assert torch.equal(plain(xp)[:, upto], base[:, upto]), f"decoder outputs at positions <= {q} moved with values >= {q}"
        at = int((position == q).nonzero())
        pixel, c = at % (height * width), at // (height * width)
        if q > 0 and (c > 0 or pixel % width > 0):
            xq = x.clone()
            xq[:, int((position == q - 1).nonzero())] += 0.5
            moved += int(not torch.equal(plain(xq)[:, at], base[:, at]))
    assert moved > 0, "no output ever depends on the value before it: the check is vacuous"
    return moved


def verify_pixelcnn_file(path, fx):
    model, objective, exp = fx["model"], fx["objective"], fx["expected"]
    shapes, masked, names = pixelcnn_layout(model)
    colours = model["image"][0]
    assert {n: tensor_shape(v) for n, v in fx["params"].items()} == shapes, "parameter names / shapes differ from the documented layout"
    assert {n: tensor_shape(v) for n, v in exp["grads"].items()} == shapes
    assert set(fx["masks"]) == set(masked), (sorted(fx["masks"]), sorted(masked))
    for name, (n_in, n_out, kk, type_a) in masked.items():
        rule = pixelcnn_rule_mask(n_in, n_out, kk, colours, type_a)
        assert fx["masks"][name] == rule, f"{name}: mask differs from the documented rule"
        for o, i, ky, kx in ((o, i, ky, kx) for o in range(n_out) for i in range(n_in) for ky in range(kk) for kx in range(kk)):
            if not rule[o][i][ky][kx]:
                wv, g = fx["params"][name][o][i][ky][kx], exp["grads"][name][o][i][ky][kx]
                assert wv == 0.0 and g == 0.0 and math.copysign(1, wv) > 0, f"{name}[{o},{i},{ky},{kx}]: masked entry {wv}, grad {g}"
    assert set(exp) == {"mu", "logvar", "z", "decoder_out", "recon", "kl", "mmd", "loss", "grads"}, sorted(exp)
    P, x, mu, logvar, z = ref_dense_encoder(fx)
    act = model["activation"]
    g = x.reshape(x.shape[0], *model["image"])
    convs = [masked[n + ".weight"] for n in names]
    for name, (_, _, kk, type_a) in zip(names, convs):
        pre = ref_pixelcnn_conv(g, P[name + ".weight"], P[name + ".cond.weight"], P[name + ".bias"], z, kk, colours, type_a)
        g = pre if name == "decoder.out" else ref_activation(pre, act)
    y = g.reshape(g.shape[0], -1)
    if model["likelihood"] == "bernoulli":
        log_px = (x * y - ref_activation(y, "softplus")).sum(1)
    else:
        s = model["obs_log_var"]
        log_px = -0.5 * (((x - y) ** 2) / math.exp(s) + s + math.log(2 * math.pi)).sum(1)
    recon = -log_px.mean()
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum() / mu.shape[0]
    mmd = ref_mmd2(z, torch.tensor(fx["prior_z"], dtype=torch.float64), objective)
    loss = recon + (1 - objective["alpha"]) * kl + (objective["alpha"] + objective["lambda"] - 1) * mmd
    params = list(fx["params"])
    grads = torch.autograd.grad(loss, [P[n] for n in params], allow_unused=True)
    grads = [torch.zeros_like(P[n]) if gr is None else gr for n, gr in zip(params, grads)]
    got = {"mu": mu, "logvar": logvar, "z": z, "decoder_out": y, "recon": recon, "kl": kl, "mmd": mmd, "loss": loss}
    got.update({"grads." + n: gr for n, gr in zip(params, grads)})
    worst = compare_expected(path, got, exp)
    pixelcnn_check_autoregressive(fx, z.detach(), y.detach(), names, convs)
    return worst


def verify_all(paths):
    ok = True
    for path in paths:
        try:
            worst = verify_file(path)
            print(f"verified {os.path.basename(path)}: max scaled deviation {worst:.2e} (<= {TOLERANCE:g})")
        except (AssertionError, KeyError, ValueError, RuntimeError) as e:  # any malformed file fails
            ok = False
            print(f"FAILED {os.path.basename(path)}: {type(e).__name__}: {e}")
    return ok


# ----------------------------------------------------------------------------------------------------

def owned(folder, prefixes):
    """The fixture files of `folder` this script writes (none where the folder does not exist)."""
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith(prefixes) and f.endswith(".json"))


# What the script writes, and where each is committed: the fixtures of the plain run, and those of --pixelcnn.
OUTPUTS = (("write_all", HERE, PREFIXES), ("write_pixelcnn", PIXELCNN_FOLDER, (PIXELCNN_PREFIX,)))


def check_committed():
    """Regenerate into a temp dir and compare with the committed files, byte for byte."""
    ok = True
    for writer, folder, prefixes in OUTPUTS:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = globals()[writer](tmp)
            for path in fresh:
                name = os.path.basename(path)
                mine = os.path.join(folder, name)
                same = os.path.exists(mine) and filecmp.cmp(path, mine, shallow=False)
                ok &= same
                print(f"{'identical' if same else 'DIFFERENT' if os.path.exists(mine) else 'MISSING  '} {os.path.relpath(mine, HERE)}")
            expected = {os.path.basename(p) for p in fresh}
            for stale in owned(folder, prefixes):
                if os.path.basename(stale) not in expected:
                    ok = False
                    print(f"STALE     {os.path.relpath(stale, HERE)} (no case generates it)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare")
    ap.add_argument("--verify", nargs="*", metavar="FILE",
                    help="independently re-check FILEs (default: every fixture this script writes)")
    ap.add_argument("--pixelcnn", action="store_true", help="write the PixelCNN-decoder fixtures")
    ap.add_argument("--out", default=None, help="folder to write into (default: this script's folder)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # one thread: reduction order, hence every bit, is reproducible
    if args.check:
        sys.exit(0 if check_committed() else 1)
    if args.verify is not None:
        paths = args.verify or [p for _, folder, prefixes in OUTPUTS for p in owned(folder, prefixes)]
        sys.exit(0 if paths and verify_all(paths) else 1)
    paths = write_pixelcnn(args.out or PIXELCNN_FOLDER) if args.pixelcnn else write_all(args.out or HERE)
    for p in paths:
        print(f"wrote {p} ({os.path.getsize(p)} bytes)")
    sys.exit(0 if verify_all(paths) else 1)


if __name__ == "__main__":
    main()
