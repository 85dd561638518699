#!/usr/bin/env bash
# ferry completion: the bash script, sourced in bash, completes verbs, nested verbs, each
# verb's options and the global options after a verb, from the same definitions --help shows;
# the zsh and fish scripts parse (where those shells are installed); a bad shell is a usage
# error.
#   everyday_completion.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

expect_exit 0 "$FERRY" completion bash
cp "$OUT" "$WORK/ferry.bash"
complete_words() {  # complete_words WORD... -> the candidates for the last word, one a line
  bash -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _ferry
    printf "%s\n" "${COMPREPLY[@]}"' _ "$WORK/ferry.bash" "$@" | LC_ALL=C sort
}
has() {  # has CANDIDATE WORD... : CANDIDATE is among the completions of WORD...
  local want=$1
  shift
  complete_words "$@" | grep -qx -- "$want" || fail "'$*' does not complete to '$want': $(complete_words "$@" | tr '\n' ' ')"
}
log "verbs, nested verbs, options, global options after a verb"
for verb in backup restore find diff dump stats cat tag snapshots completion key; do
  has "$verb" ferry "${verb:0:2}"
done
has add ferry key ""
has remove ferry key ""
has --target ferry restore --ta
has --newest ferry find --ne
has --metadata ferry diff --me
has --group-by ferry snapshots --gr
has --repo ferry restore --re   # a global option, after the verb
complete_words ferry key "" | grep -qx -- "--target" && fail "key offers restore's --target"
# Every verb --help lists is offered.
"$FERRY" --help | sed -n '/^SUBCOMMANDS:/,$p' | awk 'NR > 1 && NF {print $1}' | while read -r verb; do
  has "$verb" ferry ""
done

log "zsh and fish scripts parse"
expect_exit 0 "$FERRY" completion zsh
cp "$OUT" "$WORK/_ferry"
grep -q "^#compdef ferry" "$WORK/_ferry" || fail "the zsh script lacks #compdef"
if command -v zsh >/dev/null; then
  zsh -n "$WORK/_ferry" || fail "the zsh script does not parse"
else
  log "zsh is not installed: its script is not parsed"
fi
expect_exit 0 "$FERRY" completion fish
cp "$OUT" "$WORK/ferry.fish"
grep -q "complete -c ferry .*-l 'newest'" "$WORK/ferry.fish" || fail "fish: find --newest missing"
if command -v fish >/dev/null; then
  fish -n "$WORK/ferry.fish" || fail "the fish script does not parse"
else
  log "fish is not installed: its script is not parsed"
fi
expect_exit 2 "$FERRY" completion tcsh
exit 0
