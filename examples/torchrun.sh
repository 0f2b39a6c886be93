#!/bin/bash
# Many nodes with torchrun: run this on every node with its NODE_RANK (0..NNODES-1); MASTER_ADDR is node 0.
# Lightning detects torchrun's environment (TorchElasticEnvironment) and does not launch processes itself.
set -euo pipefail
: "${NNODES:=2}" "${NODE_RANK:?set NODE_RANK}" "${MASTER_ADDR:?set MASTER_ADDR}" "${GPUS:=4}"
torchrun --nnodes "$NNODES" --node_rank "$NODE_RANK" --nproc_per_node "$GPUS" \
    --master_addr "$MASTER_ADDR" --master_port 29500 \
    -m lightship.cli train --config configs/cifar10-resnet18.yaml --data.root "$DATA/cifar10-jpg" \
    --trainer.accelerator gpu --trainer.devices "$GPUS" --trainer.num_nodes "$NNODES" --trainer.strategy ddp \
    --out runs/torchrun
