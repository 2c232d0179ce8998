#!/usr/bin/python3
"""Writes tests/data/conv_reference.txt: convolution and pooling cases
computed by PyTorch (torch.nn.functional.conv2d, max_pool2d, avg_pool2d),
converted to nnlua's layouts (NHWC data, Keras kernel [kh, kw, cin, cout]).
tests/test_conv.c and tests/test_pool.c read it; they skip when it is
missing. Run by hand when the cases change (Debian python3-torch):

    /usr/bin/python3 tests/gen_conv_reference.py

Padding is applied here with F.pad by TensorFlow's "same" rule (the extra
pixel at the bottom/right), because PyTorch's own padding is symmetric;
max pooling pads with -inf and average pooling divides by the number of
real pixels, as Keras does.

Format, whitespace-separated, one case after another:
    conv B H W CIN KH KW COUT SH SW DH DW PAD
    N  then N floats: x, W, b, y
    maxpool|avgpool B H W C PH PW SH SW PAD
    N  then N floats: x, y
"""
import os
import torch
import torch.nn.functional as F

torch.manual_seed(12)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "conv_reference.txt")


def pads(size, k, stride, dil, padding):
    """(before, after) along one axis, TensorFlow's rule."""
    if padding == "valid":
        return 0, 0
    ek = (k - 1) * dil + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + ek - size, 0)
    return total // 2, total - total // 2


def floats(t):
    return " ".join("%.9g" % v for v in t.reshape(-1).tolist())


def conv_case(f, b, h, w, cin, kh, kw, cout, sh, sw, dh, dw, padding):
    x = torch.randn(b, h, w, cin)
    wk = torch.randn(kh, kw, cin, cout) * 0.5
    bias = torch.randn(cout)
    pt, pb = pads(h, kh, sh, dh, padding)
    pl, pr = pads(w, kw, sw, dw, padding)
    xn = F.pad(x.permute(0, 3, 1, 2), (pl, pr, pt, pb))
    y = F.conv2d(xn, wk.permute(3, 2, 0, 1), bias, stride=(sh, sw), dilation=(dh, dw))
    y = y.permute(0, 2, 3, 1).contiguous()
    f.write("conv %d %d %d %d %d %d %d %d %d %d %d %s\n" %
            (b, h, w, cin, kh, kw, cout, sh, sw, dh, dw, padding))
    n = x.numel() + wk.numel() + bias.numel() + y.numel()
    f.write("%d\n%s\n%s\n%s\n%s\n" % (n, floats(x), floats(wk), floats(bias), floats(y)))


def pool_case(f, kind, b, h, w, c, ph, pw, sh, sw, padding):
    x = torch.randn(b, h, w, c)
    pt, pb = pads(h, ph, sh, 1, padding)
    pl, pr = pads(w, pw, sw, 1, padding)
    xn = x.permute(0, 3, 1, 2)
    if kind == "maxpool":
        y = F.max_pool2d(F.pad(xn, (pl, pr, pt, pb), value=float("-inf")), (ph, pw), (sh, sw))
    else:
        k = ph * pw
        total = F.avg_pool2d(F.pad(xn, (pl, pr, pt, pb)), (ph, pw), (sh, sw)) * k
        count = F.avg_pool2d(F.pad(torch.ones_like(xn), (pl, pr, pt, pb)), (ph, pw), (sh, sw)) * k
        y = total / count
    y = y.permute(0, 2, 3, 1).contiguous()
    f.write("%s %d %d %d %d %d %d %d %d %s\n" % (kind, b, h, w, c, ph, pw, sh, sw, padding))
    f.write("%d\n%s\n%s\n" % (x.numel() + y.numel(), floats(x), floats(y)))


def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        conv_case(f, 2, 7, 9, 3, 3, 3, 5, 1, 1, 1, 1, "same")
        conv_case(f, 1, 8, 8, 4, 5, 2, 6, 2, 3, 1, 1, "valid")
        conv_case(f, 1, 11, 10, 2, 3, 3, 4, 2, 2, 2, 1, "same")
        conv_case(f, 1, 9, 9, 3, 4, 4, 3, 1, 1, 1, 1, "same")
        conv_case(f, 1, 12, 12, 1, 3, 3, 8, 1, 1, 1, 1, "valid")
        conv_case(f, 1, 6, 6, 17, 3, 3, 9, 1, 1, 1, 1, "valid")
        conv_case(f, 2, 5, 7, 5, 1, 1, 6, 1, 1, 1, 1, "valid")
        conv_case(f, 2, 1, 15, 3, 1, 3, 4, 1, 2, 1, 2, "same")
        pool_case(f, "maxpool", 2, 8, 8, 3, 2, 2, 2, 2, "valid")
        pool_case(f, "maxpool", 1, 7, 9, 5, 3, 3, 2, 2, "same")
        pool_case(f, "maxpool", 1, 11, 11, 4, 2, 2, 2, 2, "same")
        pool_case(f, "maxpool", 1, 6, 7, 2, 3, 2, 1, 2, "valid")
        pool_case(f, "avgpool", 2, 7, 9, 3, 3, 3, 2, 2, "same")
        pool_case(f, "avgpool", 1, 8, 8, 5, 2, 2, 2, 2, "valid")


if __name__ == "__main__":
    main()
