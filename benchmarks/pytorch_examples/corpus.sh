#!/usr/bin/env bash
# usage: corpus.sh NAME...   (runs each program under the gate, and alone for 60 s, recording peak RSS)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SCRATCH=${SCRATCH:-/work/scratch-programs}  # run/ (copies of the pytorch/examples programs), data/, results/
export PYTHONPATH=$HERE/shims CORPUS_DATA=$SCRATCH/data
GATE=${GATE:-$HERE/../../.venv/bin/overfit-gate}
PY=${PY:-$HERE/../../.venv/bin/python}
R=$SCRATCH/results
mkdir -p "$R" "$SCRATCH/reports"
declare -A DIR ARGS FLAGS
FLAGS[regression_1000]="--steps 1000"
FLAGS[time_sequence_prediction]="--timeout 3600"
FLAGS[gat]="--timeout 3600"
FLAGS[dcgan_noprobe]="--skip-checks batch_independence,causality,gradient_flow"
DIR[dcgan_noprobe]=dcgan; ARGS[dcgan_noprobe]="python main.py --dataset fake --ngf 8 --ndf 8 --batchSize 16 --outf out --niter 1"
DIR[regression_1000]=regression; ARGS[regression_1000]="python main.py"
DIR[mnist]=mnist; ARGS[mnist]="python main.py --no-accel"
DIR[gcn]=gcn; ARGS[gcn]="python main.py --no-accel"
DIR[gcn_1000]=gcn; ARGS[gcn_1000]="python main.py --no-accel --epochs 1000"
DIR[gat]=gat; ARGS[gat]="python main.py --no-accel --hidden-dim 16 --num-heads 4 --epochs 1000"
DIR[vae]=vae; ARGS[vae]="python main.py --no-accel"
DIR[regression]=regression; ARGS[regression]="python main.py"
DIR[time_sequence_prediction]=time_sequence_prediction; ARGS[time_sequence_prediction]="python train.py --steps 15"
DIR[dcgan]=dcgan; ARGS[dcgan]="python main.py --dataset fake --ngf 8 --ndf 8 --batchSize 16 --outf out --niter 1"
DIR[reinforce]=reinforcement_learning; ARGS[reinforce]="python reinforce.py"
DIR[actor_critic]=reinforcement_learning; ARGS[actor_critic]="python actor_critic.py"
DIR[mnist_hogwild]=mnist_hogwild; ARGS[mnist_hogwild]="python main.py"
DIR[forward_forward]=mnist_forward_forward; ARGS[forward_forward]="python main.py --no_accel --epochs 300"
DIR[wlm_lstm]=word_language_model; ARGS[wlm_lstm]="python main.py --emsize 32 --nhid 32 --epochs 2 --save /tmp/wlm.pt"
DIR[wlm_transformer]=word_language_model; ARGS[wlm_transformer]="python main.py --model Transformer --emsize 32 --nhid 32 --nhead 2 --epochs 2 --save /tmp/wlmt.pt"
DIR[siamese]=siamese_network; ARGS[siamese]="python main.py --no-accel --batch-size 16"
DIR[nanogpt_torchrun]=nanoGPT; ARGS[nanogpt_torchrun]="torchrun --standalone --nproc_per_node=1 train.py --dataset=tinychar --device=cpu --compile=False --backend=gloo --n_layer=2 --n_head=2 --n_embd=64 --block_size=32 --batch_size=8 --eval_interval=100000 --eval_iters=2 --log_interval=50 --max_iters=2000 --dropout=0.0 --gradient_accumulation_steps=1 --warmup_iters=0 --learning_rate=3e-3 --min_lr=3e-3"
DIR[mnist_rnn]=mnist_rnn; ARGS[mnist_rnn]="python main.py"
DIR[imagenet]=imagenet; ARGS[imagenet]="python main.py --dummy -a resnet18 -b 16 --workers 0"
DIR[wlm_lstm6]=word_language_model; ARGS[wlm_lstm6]="python main.py --emsize 32 --nhid 32 --epochs 6 --save /tmp/wlm6.pt"
DIR[wlm_transformer_lr5]=word_language_model; ARGS[wlm_transformer_lr5]="python main.py --model Transformer --emsize 32 --nhid 32 --nhead 2 --lr 5 --epochs 6 --save /tmp/wlmt5.pt"
DIR[super_resolution]=super_resolution; ARGS[super_resolution]="python main.py --upscale_factor 3 --batchSize 4 --testBatchSize 100 --nEpochs 30 --lr 0.001"
DIR[language_translation]=language_translation; ARGS[language_translation]="python main.py --epochs 30 --batch 32 --enc_layers 2 --dec_layers 2 --embed_size 64 --dim_feedforward 128 --attn_heads 4"
DIR[ddp]=distributed/ddp; ARGS[ddp]="torchrun --nproc_per_node=1 example.py"
for name in "$@"; do
  cd $SCRATCH/run/${DIR[$name]} || continue
  out=$SCRATCH/reports/$name; rm -rf $out
  /usr/bin/time -f "%e %M" -o $R/$name.gate.time timeout 900 $GATE run ${FLAGS[$name]:-} --out $out -- ${ARGS[$name]} > $R/$name.log 2>&1
  echo $? > $R/$name.rc
  /usr/bin/time -f "%e %M" -o $R/$name.alone.time timeout 60 env PYTHONPATH=$PYTHONPATH ${ARGS[$name]/#python/$PY} > $R/$name.alone.log 2>&1
  echo "$name rc=$(cat $R/$name.rc) gate=$(cat $R/$name.gate.time) alone=$(cat $R/$name.alone.time | tail -1)"
done
