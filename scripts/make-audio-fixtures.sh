#!/usr/bin/env bash
# Makes the real-speech clips under test/fixtures/audio/ (run once; the output is committed).
# Needs Debian's espeak-ng and sox: apt-get install -y espeak-ng sox
# Each clip: espeak-ng speech, leading/trailing silence trimmed, 8 kHz mono G.711 mu-law, headerless
# (the format of a Twilio media stream's payload). `sox -D` (no dither): a rerun gives the same bytes.
# Noise is not recorded: test/sim/twilio/line-noise.ts makes it from a seed.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/audio"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

clip() { # name voice speed text
  espeak-ng -v "$2" -s "$3" -g 0 -w "$tmp/in.wav" "$4"
  sox -D "$tmp/in.wav" -r 8000 -c 1 -e u-law -t raw "$out/$1.ulaw" \
    silence 1 0.01 1% reverse silence 1 0.01 1% reverse norm -3
}

# The bed of the Twilio simulator's callee speech (mixed under its harmonic "voice", see callee-audio.ts).
clip speech-bed en-us 165 "I would like to cancel my subscription please. The account is under the name of Alex Morgan, and the number ends in four two seven one. Could you tell me what happens to the remaining balance?"

# True interruptions: a person talking over the agent.
clip speech-wait en-us 170 "Wait, wait, that is not what I asked for."
clip speech-question en-gb 160 "Sorry, can I ask you something first?"
clip speech-cancel en-us+f3 170 "No, I just want to cancel the whole thing."
clip speech-repeat en-gb+f2 165 "Could you say that again please?"
# A short command, shorter than BARGE_IN_BACKCHANNEL_MAX_MS: judged by its words.
clip speech-stop en-us 170 "Stop."

# Backchannels: short acknowledgements that must not stop the agent.
clip backchannel-mhm en-us 180 "mhm"
clip backchannel-uh-huh en-us 170 "uh-huh"
clip backchannel-okay en-us+f3 170 "okay"
clip backchannel-yeah en-gb 170 "yeah"
clip backchannel-right en-us 170 "right"

ls -l "$out"
