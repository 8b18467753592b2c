//! A learned head over feature vectors of any width (the tagger's hidden features, with or
//! without the signal cues): each column standardised, then a multinomial logistic layer
//! fitted by full-batch Adam on a weighted cross-entropy with L2 shrinkage. The lens model
//! of the signal cues ([`super::model::Model`]) is fitted by the same [`fit_softmax`].

/// One labelled vector for training.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub x: Vec<f32>,
    pub class: usize,
    pub weight: f32,
}

/// A fitted head: the standardisation, an optional hidden layer of rectified units, and one
/// weight row (plus bias) per class over the standardised input or the hidden units.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// Hidden units: rows of `mean.len() + 1` (the last is the bias).
    pub hidden: Vec<Vec<f32>>,
    /// `n_classes` rows of (input or hidden width) + 1 (the last is the bias).
    pub weights: Vec<Vec<f32>>,
}

/// The logits of standardised `z` under `weights` (rows of `z.len() + 1`, bias last).
pub fn logits(weights: &[Vec<f32>], z: &[f32], out: &mut [f32]) {
    let d = z.len();
    for (o, w) in out.iter_mut().zip(weights) {
        *o = w[d] + z.iter().zip(w).map(|(a, b)| a * b).sum::<f32>();
    }
}

/// `l` turned into probabilities, in place.
pub fn softmax_in_place(l: &mut [f32]) {
    let mx = l.iter().copied().fold(f32::MIN, f32::max);
    l.iter_mut().for_each(|v| *v = (*v - mx).exp());
    let s: f32 = l.iter().sum();
    l.iter_mut().for_each(|v| *v /= s);
}

/// Weights (`n_classes` rows of `d + 1`) fitted to the standardised rows `zs` (each `d`
/// long) by `steps` of full-batch Adam on the weighted cross-entropy plus `l2` shrinkage.
pub fn fit_softmax(
    zs: &[&[f32]],
    classes: &[usize],
    weights: &[f32],
    n_classes: usize,
    d: usize,
    l2: f32,
    steps: usize,
) -> Vec<Vec<f32>> {
    let wsum: f32 = weights.iter().sum::<f32>().max(1e-9);
    let mut w = vec![vec![0.0f32; d + 1]; n_classes];
    let mut opt: Vec<Adam> = (0..n_classes).map(|_| Adam::new(d + 1)).collect();
    let mut p = vec![0.0f32; n_classes];
    for _ in 0..steps {
        let mut grad = vec![vec![0.0f32; d + 1]; n_classes];
        for ((z, &class), &weight) in zs.iter().zip(classes).zip(weights) {
            logits(&w, z, &mut p);
            softmax_in_place(&mut p);
            let ew = weight / wsum;
            for k in 0..n_classes {
                let dk = ew * (p[k] - if k == class { 1.0 } else { 0.0 });
                for (g, zi) in grad[k].iter_mut().zip(z.iter()) {
                    *g += dk * zi;
                }
                grad[k][d] += dk;
            }
        }
        for ((o, row), g) in opt.iter_mut().zip(&mut w).zip(&mut grad) {
            o.step_row(row, g, l2, 0.05);
        }
    }
    w
}

/// Adam's state for one block of parameters.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }
    /// One step on a row of weights whose last element is the bias: `l2` shrinkage of the
    /// weights (not the bias) added to the gradient `g`, then Adam at rate `lr`.
    fn step_row(&mut self, p: &mut [f32], g: &mut [f32], l2: f32, lr: f32) {
        let bias = p.len().saturating_sub(1);
        for (gi, pi) in g[..bias].iter_mut().zip(&p[..bias]) {
            *gi += l2 * pi;
        }
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for i in 0..p.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g[i] * g[i];
            p[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + eps);
        }
    }
}

impl Head {
    /// The standardisation of `data`'s columns (every `x` as long as the first).
    fn standardised(data: &[Labelled]) -> Head {
        let d = data.first().map_or(0, |e| e.x.len());
        let n = data.len().max(1) as f64;
        let mut mean = vec![0.0f64; d];
        let mut var = vec![0.0f64; d];
        for e in data {
            for (m, x) in mean.iter_mut().zip(&e.x) {
                *m += *x as f64 / n;
            }
        }
        for e in data {
            for ((v, x), m) in var.iter_mut().zip(&e.x).zip(&mean) {
                *v += (*x as f64 - m).powi(2) / n;
            }
        }
        Head {
            mean: mean.iter().map(|m| *m as f32).collect(),
            scale: var.iter().map(|v| (v.sqrt() as f32).max(1e-3)).collect(),
            hidden: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Fits a head with one hidden layer of `units` rectified units by mini-batch Adam
    /// (batches of 128, `epochs` passes in an order drawn from `seed`) on the weighted
    /// cross-entropy plus `l2` shrinkage of the weights.
    pub fn train_mlp(
        data: &[Labelled],
        n_classes: usize,
        units: usize,
        l2: f32,
        epochs: usize,
        seed: u64,
    ) -> Head {
        let mut head = Head::standardised(data);
        let d = head.mean.len();
        let zs: Vec<Vec<f32>> = data.iter().map(|e| head.standardise(&e.x)).collect();
        let wmean = data.iter().map(|e| e.weight).sum::<f32>() / data.len().max(1) as f32;
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut rand = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        // He initialisation (uniform of the same variance; the output layer at half of it),
        // zero biases: `rows` rows of `width` weights and a bias.
        let mut init = |rows: usize, width: usize, amp: f32| -> Vec<Vec<f32>> {
            (0..rows)
                .map(|_| {
                    let mut r: Vec<f32> = (0..width).map(|_| (2.0 * rand() - 1.0) * amp).collect();
                    r.push(0.0);
                    r
                })
                .collect()
        };
        head.hidden = init(units, d, (6.0 / d.max(1) as f32).sqrt());
        head.weights = init(n_classes, units, 0.5 * (6.0 / units.max(1) as f32).sqrt());
        let mut o1: Vec<Adam> = (0..units).map(|_| Adam::new(d + 1)).collect();
        let mut o2: Vec<Adam> = (0..n_classes).map(|_| Adam::new(units + 1)).collect();
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut g1 = vec![vec![0.0f32; d + 1]; units];
        let mut g2 = vec![vec![0.0f32; units + 1]; n_classes];
        let mut h = vec![0.0f32; units];
        let mut p = vec![0.0f32; n_classes];
        let mut dh = vec![0.0f32; units];
        for _ in 0..epochs {
            for i in (1..order.len()).rev() {
                let j = (rand() * (i + 1) as f32) as usize;
                order.swap(i, j.min(i));
            }
            for batch in order.chunks(128) {
                g1.iter_mut().flatten().for_each(|g| *g = 0.0);
                g2.iter_mut().flatten().for_each(|g| *g = 0.0);
                let scale = 1.0 / (batch.len() as f32 * wmean.max(1e-9));
                for &e in batch {
                    let z = &zs[e];
                    head.forward(z, &mut h, &mut p);
                    softmax_in_place(&mut p);
                    let ew = data[e].weight * scale;
                    dh.iter_mut().for_each(|v| *v = 0.0);
                    for (k, (g, w)) in g2.iter_mut().zip(&head.weights).enumerate() {
                        let dk = ew * (p[k] - if k == data[e].class { 1.0 } else { 0.0 });
                        for u in 0..units {
                            g[u] += dk * h[u];
                            dh[u] += dk * w[u];
                        }
                        g[units] += dk;
                    }
                    for (u, g) in g1.iter_mut().enumerate() {
                        if h[u] <= 0.0 {
                            continue;
                        }
                        for (gi, zi) in g[..d].iter_mut().zip(z) {
                            *gi += dh[u] * zi;
                        }
                        g[d] += dh[u];
                    }
                }
                for ((o, row), g) in o1.iter_mut().zip(&mut head.hidden).zip(&mut g1) {
                    o.step_row(row, g, l2, 1e-3);
                }
                for ((o, row), g) in o2.iter_mut().zip(&mut head.weights).zip(&mut g2) {
                    o.step_row(row, g, l2, 1e-3);
                }
            }
        }
        head
    }

    /// Fits a head with `n_classes` classes to `data` (every `x` as long as the first).
    pub fn train(data: &[Labelled], n_classes: usize, l2: f32, steps: usize) -> Head {
        let mut head = Head::standardised(data);
        let d = head.mean.len();
        let zs: Vec<Vec<f32>> = data.iter().map(|e| head.standardise(&e.x)).collect();
        let rows: Vec<&[f32]> = zs.iter().map(|z| z.as_slice()).collect();
        let classes: Vec<usize> = data.iter().map(|e| e.class).collect();
        let weights: Vec<f32> = data.iter().map(|e| e.weight).collect();
        head.weights = fit_softmax(&rows, &classes, &weights, n_classes, d, l2, steps);
        head
    }

    fn standardise(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(v, (m, s))| ((v - m) / s).clamp(-8.0, 8.0))
            .collect()
    }

    /// The logits of standardised `z` into `p`, through the hidden layer if there is one
    /// (its rectified units left in `h`, which is as long as the layer).
    fn forward(&self, z: &[f32], h: &mut [f32], p: &mut [f32]) {
        if self.hidden.is_empty() {
            logits(&self.weights, z, p);
        } else {
            logits(&self.hidden, z, h);
            h.iter_mut().for_each(|v| *v = v.max(0.0));
            logits(&self.weights, h, p);
        }
    }

    /// Class probabilities of one vector (as long as the training vectors).
    pub fn probs(&self, x: &[f32]) -> Vec<f32> {
        let mut h = vec![0.0f32; self.hidden.len()];
        let mut p = vec![0.0f32; self.weights.len()];
        self.forward(&self.standardise(x), &mut h, &mut p);
        softmax_in_place(&mut p);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_learns_which_direction_of_a_wide_vector_names_each_class() {
        // 64 columns of noise; class k (of 3) raises column 10·k. A head must find the three
        // columns among the noise and call unseen vectors by them.
        let noise = |i: usize, j: usize| (((i * 131 + j * 71) % 97) as f32 / 97.0) - 0.5;
        let vec_of = |i: usize, class: usize| {
            let mut x: Vec<f32> = (0..64).map(|j| noise(i, j)).collect();
            x[10 * class] += 2.0;
            x
        };
        let data: Vec<Labelled> = (0..600)
            .map(|i| Labelled {
                x: vec_of(i, i % 3),
                class: i % 3,
                weight: 1.0,
            })
            .collect();
        let head = Head::train(&data, 3, 1e-3, 200);
        for i in 1000..1030 {
            let p = head.probs(&vec_of(i, i % 3));
            let best = (0..3).max_by(|a, b| p[*a].total_cmp(&p[*b]));
            assert_eq!(best, Some(i % 3), "{p:?}");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn a_hidden_layer_learns_what_no_line_separates() {
        // Class 1 where the two columns share a sign, class 0 where they differ (XOR).
        let point = |i: usize| {
            let a = ((i * 37) % 101) as f32 / 50.0 - 1.0;
            let b = ((i * 61) % 103) as f32 / 51.0 - 1.0;
            (vec![a, b], usize::from(a * b > 0.0))
        };
        let data: Vec<Labelled> = (0..800)
            .map(|i| {
                let (x, class) = point(i);
                Labelled {
                    x,
                    class,
                    weight: 1.0,
                }
            })
            .collect();
        let mlp = Head::train_mlp(&data, 2, 16, 1e-4, 60, 7);
        let linear = Head::train(&data, 2, 1e-4, 300);
        let right = |h: &Head| {
            (1000..1200)
                .filter(|&i| {
                    let (x, class) = point(i);
                    let p = h.probs(&x);
                    (p[1] > p[0]) == (class == 1)
                })
                .count()
        };
        assert!(right(&mlp) >= 180, "{} of 200", right(&mlp));
        assert!(
            right(&linear) < 140,
            "a line cannot: {} of 200",
            right(&linear)
        );
    }

    #[test]
    fn weights_steer_the_fit_towards_the_heavier_class() {
        // The same vectors labelled both ways: the class with nine times the weight wins.
        let mut data = Vec::new();
        for i in 0..100 {
            let x = vec![i as f32 / 100.0, 1.0 - i as f32 / 100.0];
            data.push(Labelled {
                x: x.clone(),
                class: 0,
                weight: 9.0,
            });
            data.push(Labelled {
                x,
                class: 1,
                weight: 1.0,
            });
        }
        let head = Head::train(&data, 2, 1e-3, 200);
        let p = head.probs(&[0.5, 0.5]);
        assert!((p[0] - 0.9).abs() < 0.05, "{p:?}");
    }
}
