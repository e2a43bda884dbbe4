#pragma once
// Plain hand-written training loops for the benchmark networks, the way one writes them without a
// framework: per-sample forward and backward passes with fixed-size arrays, gradients summed over
// the batch, then the optimizer step. Float, same layers, losses and optimizers as gradc's models;
// net_bench.cpp starts them from the generated model's initial parameters and learning rate, so
// that both evaluate tanh/exp on the same range of arguments and samples/s compare like for like.

#include <algorithm>
#include <cmath>

namespace handwritten {

// td1: 2-2-1, sigmoid then tanh, squared error, SGD on one sample.
struct Td1 {
    float W1[2][2] = {{0.1f, 0.1f}, {0.1f, 0.4f}}, b1[2] = {0.8f, 0.6f};
    float W2[2] = {0.3f, 0.9f}, b2 = 0.1f;

    float train_batch(const float* x, const float* y, int count) {
        float gW1[2][2] = {}, gb1[2] = {}, gW2[2] = {}, gb2 = 0, loss = 0;
        for (int s = 0; s < count; ++s, x += 2, ++y) {
            float h[2];
            for (int j = 0; j < 2; ++j)
                h[j] = 1 / (1 + std::exp(-(W1[j][0] * x[0] + W1[j][1] * x[1] + b1[j])));
            const float o = std::tanh(W2[0] * h[0] + W2[1] * h[1] + b2);
            loss += 0.5f * (*y - o) * (*y - o);
            const float d = (o - *y) * (1 - o * o);
            gb2 += d;
            for (int j = 0; j < 2; ++j) {
                gW2[j] += d * h[j];
                const float dh = d * W2[j] * h[j] * (1 - h[j]);
                gb1[j] += dh;
                gW1[j][0] += dh * x[0];
                gW1[j][1] += dh * x[1];
            }
        }
        const float lr = 1.0f / count;
        for (int j = 0; j < 2; ++j) {
            W2[j] -= lr * gW2[j];
            b1[j] -= lr * gb1[j];
            W1[j][0] -= lr * gW1[j][0];
            W1[j][1] -= lr * gW1[j][1];
        }
        b2 -= lr * gb2;
        return loss / count;
    }
};

// In-Hidden-Out classifier: dense + activation, dense, softmax cross-entropy, Adam. The weights
// are stored input-major (W[k][j]) so that every inner loop runs over contiguous memory and
// vectorises without -ffast-math.
template <int In, int Hidden, int Out, bool Relu> struct Mlp {
    static constexpr int size = In * Hidden + Hidden + Hidden * Out + Out;
    float theta[size], grad[size], m[size] = {}, v[size] = {};
    long step = 0;
    float lr = 1e-3f;              // Adam's learning rate
    float* W1 = theta;             // [In][Hidden]
    float* b1 = W1 + In * Hidden;  // [Hidden]
    float* W2 = b1 + Hidden;       // [Hidden][Out]
    float* b2 = W2 + Hidden * Out; // [Out]

    Mlp() {
        unsigned state = 12345;
        for (float& t : theta) {
            state = state * 1664525u + 1013904223u;
            t = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.2f;
        }
    }

    // Starts from gradc's parameters (dense layers: W [out, in] row-major, then b).
    void copy_from(const float* gradc_theta, float learning_rate) {
        lr = learning_rate;
        const float* gW1 = gradc_theta;
        const float* gb1 = gW1 + Hidden * In;
        const float* gW2 = gb1 + Hidden;
        const float* gb2 = gW2 + Out * Hidden;
        for (int k = 0; k < In; ++k)
            for (int j = 0; j < Hidden; ++j)
                W1[k * Hidden + j] = gW1[j * In + k];
        std::copy_n(gb1, Hidden, b1);
        for (int j = 0; j < Hidden; ++j)
            for (int o = 0; o < Out; ++o)
                W2[j * Out + o] = gW2[o * Hidden + j];
        std::copy_n(gb2, Out, b2);
    }

    float train_batch(const float* x, const float* labels, int count) {
        std::fill_n(grad, size, 0.0f);
        float* gW1 = grad;
        float* gb1 = gW1 + In * Hidden;
        float* gW2 = gb1 + Hidden;
        float* gb2 = gW2 + Hidden * Out;
        float loss = 0;
        for (int s = 0; s < count; ++s, x += In) {
            float h[Hidden], z[Out], dh[Hidden];
            std::copy_n(b1, Hidden, h);
            for (int k = 0; k < In; ++k)
                for (int j = 0; j < Hidden; ++j)
                    h[j] += x[k] * W1[k * Hidden + j];
            for (int j = 0; j < Hidden; ++j)
                h[j] = Relu ? std::max(h[j], 0.0f) : std::tanh(h[j]);
            std::copy_n(b2, Out, z);
            for (int j = 0; j < Hidden; ++j)
                for (int o = 0; o < Out; ++o)
                    z[o] += h[j] * W2[j * Out + o];
            float top = z[0], sum = 0;
            for (int o = 1; o < Out; ++o)
                top = std::max(top, z[o]);
            for (int o = 0; o < Out; ++o)
                sum += (z[o] = std::exp(z[o] - top));
            const int label = static_cast<int>(labels[s]);
            loss += std::log(sum) - std::log(z[label]);
            for (int o = 0; o < Out; ++o)
                z[o] /= sum; // now dLoss/dz
            z[label] -= 1;
            for (int o = 0; o < Out; ++o)
                gb2[o] += z[o];
            for (int j = 0; j < Hidden; ++j) {
                float d = 0;
                for (int o = 0; o < Out; ++o) {
                    gW2[j * Out + o] += h[j] * z[o];
                    d += W2[j * Out + o] * z[o];
                }
                dh[j] = Relu ? (h[j] > 0 ? d : 0.0f) : d * (1 - h[j] * h[j]);
                gb1[j] += dh[j];
            }
            for (int k = 0; k < In; ++k)
                for (int j = 0; j < Hidden; ++j)
                    gW1[k * Hidden + j] += x[k] * dh[j];
        }
        ++step;
        const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        const float c1 = 1 / (1 - std::pow(beta1, float(step)));
        const float c2 = 1 / (1 - std::pow(beta2, float(step)));
        for (int i = 0; i < size; ++i) {
            const float g = grad[i] / count;
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            theta[i] -= lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
        }
        return loss / count;
    }
};

} // namespace handwritten
