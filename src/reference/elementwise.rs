//! Elementwise ops: ReLU, ReLU6 and the residual add, forward and backward side by side.
//! ReLU's backward takes the forward output (y > 0 exactly where x > 0).

pub fn relu_forward(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| v.max(0.0)).collect()
}

pub fn relu_backward(y: &[f32], dy: &[f32]) -> Vec<f32> {
    y.iter().zip(dy).map(|(&y, &g)| if y > 0.0 { g } else { 0.0 }).collect()
}

pub fn relu6_forward(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| v.clamp(0.0, 6.0)).collect()
}

pub fn relu6_backward(y: &[f32], dy: &[f32]) -> Vec<f32> {
    y.iter().zip(dy).map(|(&y, &g)| if y > 0.0 && y < 6.0 { g } else { 0.0 }).collect()
}

/// y = a + b (the residual join). Its backward passes dy unchanged to both inputs.
pub fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(&a, &b)| a + b).collect()
}

/// acc += x (gradient accumulation where a tensor feeds two consumers).
pub fn add_assign(acc: &mut [f32], x: &[f32]) {
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += v;
    }
}
