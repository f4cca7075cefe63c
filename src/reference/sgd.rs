//! One SGD-with-momentum update on the CPU, in place (see `ops::sgd` for the formula).

use crate::ops::sgd::SgdParams;
use crate::Result;

pub fn step(p: &SgdParams, lr: f32, w: &mut [f32], grad: &[f32], velocity: &mut [f32]) -> Result<()> {
    p.check(&&*w, &grad, &&*velocity)?;
    for ((w, &grad), v) in w.iter_mut().zip(grad).zip(velocity.iter_mut()) {
        let g = grad + p.weight_decay * *w;
        *v = p.momentum * *v + g;
        let step = if p.nesterov { g + p.momentum * *v } else { *v };
        *w -= lr * step;
    }
    Ok(())
}
