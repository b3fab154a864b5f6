#!/usr/bin/env bash
# Remakes docs/images/wireshark.png, the README's Wireshark screenshot: a sample capture opened in
# Wireshark's GUI with the Cumma plugin, labels from a live agent, two Cumma columns, three
# colouring rules and a Cumma display filter, the Cumma subtree of one packet expanded.
#
# Needs what CI does not install (the GUI is not tested, tshark is):
#   apt-get install wireshark-qt xvfb xauth xdotool imagemagick lua-socket
# Usage: scripts/screenshot-wireshark.sh [OUTPUT.png]   (after npm run build)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${1:-$ROOT/docs/images/wireshark.png}
for tool in wireshark Xvfb xdotool import; do
  command -v "$tool" >/dev/null || { echo "screenshot-wireshark: $tool is missing (see the comment at the top of $0)" >&2; exit 1; }
done
[ -f "$ROOT/dist/cumma.js" ] || { echo "screenshot-wireshark: $ROOT/dist/cumma.js is missing: run npm run build" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cumma-screenshot.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A display, a home and an agent of its own, so that nothing of the user's own Wireshark
# profile (columns, colours, an installed copy of the plugin) shows in the picture.
DISPLAY_NUMBER=$((90 + RANDOM % 400))
Xvfb ":$DISPLAY_NUMBER" -screen 0 1600x1000x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
export DISPLAY=":$DISPLAY_NUMBER" HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/runtime"
mkdir -p "$HOME/.config/wireshark" "$XDG_RUNTIME_DIR" "$WORK/captures"
chmod 700 "$XDG_RUNTIME_DIR"
cat >"$HOME/.config/wireshark/colorfilters" <<'EOF'
@Cumma photo@cumma.usage == "photo"@[65535,59000,50000][0,0,0]
@Cumma text@cumma.usage == "text"@[52000,60000,65535][0,0,0]
@Cumma other@cumma.group == "other"@[60000,60000,60000][0,0,0]
@TCP@tcp@[59367,59110,65535][4626,10023,11822]
@UDP@udp@[56026,61166,65535][4626,10023,11822]
EOF

CAPTURE="$WORK/captures/whatsapp-chat.pcapng"
cp "$ROOT/samples/whatsapp-chat.pcapng" "$CAPTURE"
# The agent's default port, as a user would see it, unless something already listens there.
PORT=7345
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then PORT=$((20000 + RANDOM % 20000)); fi
node "$ROOT/dist/cumma.js" watch "$WORK/captures" --port "$PORT" --state-dir "$WORK/state" >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  # Read to its end and labelled: the capture is idle.
  [ -f "$HOME/.config/cumma/token" ] && curl -fs "http://127.0.0.1:$PORT/captures?token=$(cat "$HOME/.config/cumma/token")" | grep -q '"state":"idle"' && break
  sleep 0.2
done
sleep 1 # the last dialog's provisional label follows the idle state

wireshark -X "lua_script:$ROOT/lua-dissector/cumma.lua" -o "cumma.port:$PORT" -r "$CAPTURE" \
  -Y 'cumma.group != "other"' -o gui.layout_content_3:NONE \
  -o 'gui.column.format:"No.","%m","Time","%t","Source","%s","Destination","%d","Protocol","%p","Length","%L","Usage","%Cus:cumma.usage:0:R","Conf.","%Cus:cumma.confidence:0:R","Info","%i"' \
  -g 47 >"$WORK/wireshark.log" 2>&1 &
PIDS+=($!)
WINDOW=""
for _ in $(seq 1 100); do
  WINDOW=$(xdotool search --name 'whatsapp-chat' 2>/dev/null | head -1 || true)
  [ -n "$WINDOW" ] && break
  sleep 0.2
done
[ -n "$WINDOW" ] || { echo "screenshot-wireshark: no Wireshark window after 20 s; its log:" >&2; cat "$WORK/wireshark.log" >&2; exit 1; }
sleep 3 # the packet list is filled and packet 47 selected after the window maps
xdotool windowmove "$WINDOW" 0 0 windowsize "$WINDOW" 1440 800
sleep 1
# The Cumma line is the sixth of the packet details (after the comments, frame, Ethernet, IP, TCP).
xdotool mousemove 120 530 click 1
xdotool key Right
xdotool mousemove 1400 790
sleep 1
import -window root -crop 1440x800+0+0 +repage "$OUTPUT"
echo "screenshot-wireshark: wrote $OUTPUT"
