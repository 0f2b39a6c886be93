#!/bin/bash
# Many nodes with torchrun: run this on every node with its NODE_RANK (0..NNODES-1); MASTER_ADDR is node 0.
# Lightning detects torchrun's environment (TorchElasticEnvironment) and does not launch processes itself.
# Without --out the run folder is runs/imagefolder-resnet18_cifar (then ...2, ...3): rank 0 chooses it once and
# tells the other processes through torchrun's store. Extra arguments go to `lightship train`.
# One machine without GPUs: NNODES=1 NODE_RANK=0 MASTER_ADDR=127.0.0.1 GPUS=2 ACCELERATOR=cpu DATA=... examples/torchrun.sh
set -euo pipefail
: "${NNODES:=2}" "${NODE_RANK:?set NODE_RANK}" "${MASTER_ADDR:?set MASTER_ADDR}" "${GPUS:=4}" "${ACCELERATOR:=gpu}"
: "${DATA:?set DATA to the folder that holds cifar10-jpg/}" "${MASTER_PORT:=29500}"
torchrun --nnodes "$NNODES" --node_rank "$NODE_RANK" --nproc_per_node "$GPUS" \
    --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \
    -m lightship.cli train --config configs/cifar10-resnet18.yaml --data.root "$DATA/cifar10-jpg" \
    --trainer.accelerator "$ACCELERATOR" --trainer.devices "$GPUS" --trainer.num_nodes "$NNODES" \
    --trainer.strategy ddp "$@"
