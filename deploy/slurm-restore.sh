#!/bin/bash
# Restores every image under $IN into $OUT with a Slurm job array; each array task takes one shard.
#   sbatch deploy/slurm-restore.sh                # 16 tasks, as in --array below
#   sbatch --array=0-63%16 deploy/slurm-restore.sh  # 64 shards, at most 16 running at once
# The shard comes from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (memorynet reads them itself); tasks may
# be rerun or the whole array resubmitted: --skip-existing leaves finished outputs alone.
#SBATCH --job-name=memorynet-restore
#SBATCH --array=0-15
#SBATCH --cpus-per-task=4
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=logs/restore-%A_%a.out
set -euo pipefail

IN=${IN:-/shared/photos/in}
OUT=${OUT:-/shared/photos/out}
TASK=${TASK:-derain}
MEMORYNET=${MEMORYNET:-memorynet}          # memorynet-VERSION-linux-x64/memorynet of the release archive on the shared disk, or ./memorynet in a checkout
THREADS=${SLURM_CPUS_PER_TASK:-4}

export OMP_NUM_THREADS=$THREADS
mkdir -p "$OUT"
exec "$MEMORYNET" restore "$IN" -o "$OUT" --task "$TASK" --skip-existing \
    --threads "$THREADS" --max-memory 3GB
