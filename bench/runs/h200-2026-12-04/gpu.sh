#!/usr/bin/env bash
# One device run: bench-gpu on the real adapter, then the 12-seed distillation and ResNet-tweaks lessons.
set -u
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export TRICKLAB_KERNEL_CACHE=/tmp/picks.json XDG_RUNTIME_DIR=/tmp
B=.dev/tricklab
if ! $B adapter 2>/dev/null | grep -q '"software":false'; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
$B adapter | tee $OUT/adapter.json
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/nvidia-smi.txt
start=$(date +%s)
.dev/xtask bench-gpu --bin $B --no-browser > $OUT/bench-gpu.jsonl 2> $OUT/bench-gpu.err
echo "bench-gpu rc=$? in $(( $(date +%s) - start )) s"; tail -3 $OUT/bench-gpu.err
$B bench-step --model mobilenetv2 --batch 128 --steps 20 > $OUT/mobilenet-step.jsonl 2>&1; tail -2 $OUT/mobilenet-step.jsonl
start=$(date +%s)
$B lesson distillation --seeds 12 --data .dev/mnist > $OUT/distillation-12.jsonl 2> $OUT/distillation.err &
$B lesson resnet-tweaks --seeds 12 --data .dev/mnist > $OUT/resnet-tweaks-12.jsonl 2> $OUT/resnet-tweaks.err &
wait
echo "lessons in $(( $(date +%s) - start )) s"; wc -l $OUT/*.jsonl; tail -1 $OUT/distillation-12.jsonl | cut -c1-600; tail -1 $OUT/resnet-tweaks-12.jsonl | cut -c1-600
