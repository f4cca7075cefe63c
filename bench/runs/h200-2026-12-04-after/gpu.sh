#!/usr/bin/env bash
# After the structure refactor: bench-gpu again on the real adapter (kernel checks, picks, steps).
set -u
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export TRICKLAB_KERNEL_CACHE=/tmp/picks.json XDG_RUNTIME_DIR=/tmp
B=.dev2/tricklab
$B adapter 2>/dev/null | grep -q '"software":false' || export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
.dev2/xtask bench-gpu --bin $B --no-browser > $OUT/bench-gpu-after.jsonl 2> $OUT/bench-gpu-after.err
echo "rc=$?"; grep -c '"ok":true' $OUT/bench-gpu-after.jsonl; grep '"native step"' $OUT/bench-gpu-after.jsonl
$B bench-step --model mobilenetv2 --batch 128 --steps 20 2>/dev/null | head -1 | tee $OUT/mobilenet-after.jsonl
