#!/usr/bin/env bash
# ResNet-20 on CIFAR-10, 30 epochs: the baseline recipe against all tricks (with and without mixup), three runs side by side.
set -u
cp .cf4/cfpart03 /tmp/cifar/; cat /tmp/cifar/cfpart0* > /tmp/cifar10.tar.gz; sha256sum /tmp/cifar10.tar.gz | tee $OUT/sha.txt
export TRICKLAB_KERNEL_CACHE=/tmp/picks.json XDG_RUNTIME_DIR=/tmp
B=/tmp/cifar/tricklab
$B adapter 2>/dev/null | grep -q '"software":false' || export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
$B adapter
common="--dataset cifar10 --model resnet20 --epochs 30 --batch-size 128 --data /tmp/cifar10.tar.gz --report-every 100000"
timeout 420 $B train $common --set lr_decay_epochs=[15,23] > $OUT/cifar-baseline.jsonl 2> $OUT/cifar-baseline.err &
timeout 420 $B train $common --set lr_mode=cosine --set warmup_epochs=2 --set last_gamma=true --set no_wd=true --set label_smoothing=0.1 --set mixup_alpha=0.2 > $OUT/cifar-tricks.jsonl 2> $OUT/cifar-tricks.err &
timeout 420 $B train $common --set lr_mode=cosine --set warmup_epochs=2 --set last_gamma=true --set no_wd=true --set label_smoothing=0.1 > $OUT/cifar-tricks-nomixup.jsonl 2> $OUT/cifar-tricks-nomixup.err &
wait
tail -n 2 $OUT/cifar-*.jsonl | cut -c1-400; tail -n 3 $OUT/cifar-*.err
