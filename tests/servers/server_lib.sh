# shellcheck shell=bash
# What the test-server scripts (azurite.sh, s3rver.sh) share. Source it after setting
# $state (the server's state directory) and $name (for messages).
#
#   free_port                     a loopback port free at the moment
#   stop_server                   stops the server in $state/pid (SIGTERM, SIGKILL after 30 s),
#                                 waits until it is gone, removes $state/pid and $state/env
#   await_server PID URL          0 once URL gets any HTTP answer; 1 if PID exited first;
#                                 exits the script (printing the server's log) after 60 s

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_server() {
  [[ -f $state/pid ]] || return 0
  local pid
  pid=$(cat "$state/pid")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS > deadline)); then
        echo "$name (pid $pid) did not exit within 30 s of SIGTERM: killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  fi
  rm -f "$state/pid" "$state/env"
}

# Any HTTP status (a refusal of the unsigned probe included) means it is listening.
await_server() {
  local pid=$1 url=$2 deadline=$((SECONDS + 60))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true) != 000 ]]; do
    kill -0 "$pid" 2>/dev/null || return 1
    if ((SECONDS > deadline)); then
      kill "$pid" 2>/dev/null || true
      echo "$name did not answer on $url within 60 s; its log:" >&2
      cat "$state/log" >&2
      exit 1
    fi
    sleep 0.1
  done
}
