#!/usr/bin/env bash
# `sendgate smtp-user add|list|passwd|del` on a users file in a temp dir: the
# file holds yescrypt hashes and never a password, is mode 0600 after every
# edit, keeps the operator's comments, refuses bad input with one line and
# exit 2 (usage) or 1 (failure), and what it writes is what the checker takes
# (the password is verified with python's crypt module when it has one).
. "$(dirname "$0")/lib.sh"

U=("$SENDGATE" smtp-user)
F="$T/users"
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }
rcin() { local in=$1; shift; printf '%s' "$in" | "$@" >"$T/out" 2>"$T/err"; echo $?; }
mode() { stat -c %a "$1"; }

echo "# usage"
check "--help exit 0" "0" "$(rc "${U[@]}" --help)"
check "--help text" "1" "$(grep -c '^usage: sendgate smtp-user add NAME' "$T/out")"
check "listed in sendgate --help" "1" "$("$SENDGATE" --help | grep -c '^  smtp-user')"
check "no subcommand" "2" "$(rc "${U[@]}" --users-file "$F")"
check "one line" "1" "$(wc -l <"$T/err")"
check "bad subcommand" "2" "$(rc "${U[@]}" frob --users-file "$F")"
check "add without --allow-from" "2" "$(rcin $'pw\n' "${U[@]}" add alice --users-file "$F")"
check "add without a file" "2" "$(env -u SENDGATE_SMTP_USERS_FILE "${U[@]}" add alice --allow-from a@b.com </dev/null >/dev/null 2>&1; echo $?)"
check "bad name" "2" "$(rcin $'pw\n' "${U[@]}" add 'al:ice' --allow-from a@b.com --users-file "$F")"
check "bad allow-from" "2" "$(rcin $'pw\n' "${U[@]}" add alice --allow-from nobody --users-file "$F")"
check "bad allow-from message" "sendgate smtp-user: allow-from 'nobody' is not an address or @domain" "$(cat "$T/err")"
check "bad account" "2" "$(rcin $'pw\n' "${U[@]}" add alice --allow-from a@b.com --account 'x y' --users-file "$F")"
check "nothing written on refusals" "no" "$([ -e "$F" ] && echo yes || echo no)"
check "empty password" "1" "$(rcin $'\n' "${U[@]}" add alice --allow-from a@b.com --users-file "$F")"
check "empty password message" "1" "$(grep -c 'empty password' "$T/err")"
check "no stdin" "1" "$(rc "${U[@]}" add alice --allow-from a@b.com --users-file "$F" </dev/null)"
check "still no file" "no" "$([ -e "$F" ] && echo yes || echo no)"

echo "# add"
PW1='s3cret pass:word#1'
umask 022
check "add alice" "0" "$(rcin "$PW1"$'\nsecond line ignored\n' "${U[@]}" add alice --allow-from Alice@Contoso.com --allow-from @alerts.contoso.com --users-file "$F")"
check "add output" "added alice" "$(cat "$T/out")"
check "mode 0600" "600" "$(mode "$F")"
check "no password in file" "0" "$(grep -c -F "$PW1" "$F")"
check "no second line in file" "0" "$(grep -c 'second line' "$F")"
check "yescrypt hash" "1" "$(grep -c '^alice:\$y\$[^:]*:alice@contoso.com,@alerts.contoso.com:$' "$F")"
check "add bob (SENDGATE_SMTP_USERS_FILE, CRLF, comma list)" "0" \
  "$(printf 'bob-pw\r\n' | SENDGATE_SMTP_USERS_FILE="$F" "${U[@]}" add bob --allow-from 'b@x.org,@y.org' --account billing >"$T/out" 2>"$T/err"; echo $?)"
check "add existing" "1" "$(rcin $'x\n' "${U[@]}" add bob --allow-from b@x.org --users-file "$F")"
check "add existing message" "1" "$(grep -c 'user bob exists' "$T/err")"

echo "# list"
check "list" "0" "$(rc "${U[@]}" list --users-file "$F")"
check "list output" "$(printf 'alice\talice@contoso.com,@alerts.contoso.com\t-\nbob\tb@x.org,@y.org\tbilling')" "$(cat "$T/out")"
check "list missing file" "1" "$(rc "${U[@]}" list --users-file "$T/none")"

# The hash verifies the password as typed (CRLF stripped), when python can tell.
verify() { # verify NAME PASSWORD -> yes/no/skip
  python3 - "$F" "$1" "$2" 2>/dev/null <<'PY' || echo skip
import sys, warnings
warnings.simplefilter("ignore")
import crypt, hmac
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split(":")
    if f[0] == sys.argv[2]:
        print("yes" if hmac.compare_digest(crypt.crypt(sys.argv[3], f[1]) or "", f[1]) else "no")
PY
}
v=$(verify alice "$PW1")
if [ "$v" != skip ]; then
  check "alice's hash verifies" "yes" "$v"
  check "bob's hash verifies (CR stripped)" "yes" "$(verify bob bob-pw)"
  check "wrong password does not" "no" "$(verify alice nope)"
fi

echo "# passwd"
sed -i '1i # printers of the 2nd floor' "$F"
chmod 0644 "$F"
OLD=$(grep '^alice:' "$F" | cut -d: -f2)
check "passwd" "0" "$(rcin $'n3w-pw\n' "${U[@]}" passwd alice --users-file "$F")"
NEW=$(grep '^alice:' "$F" | cut -d: -f2)
check "hash changed" "yes" "$([ "$OLD" != "$NEW" ] && [ -n "$NEW" ] && echo yes || echo no)"
check "mode 0600 again" "600" "$(mode "$F")"
check "comment kept" "# printers of the 2nd floor" "$(head -1 "$F")"
check "no new password in file" "0" "$(grep -c 'n3w-pw' "$F")"
[ "$v" != skip ] && check "new password verifies" "yes" "$(verify alice n3w-pw)"
check "passwd unknown user" "1" "$(rcin $'x\n' "${U[@]}" passwd carol --users-file "$F")"
check "passwd unknown message" "sendgate smtp-user: no user carol in $F" "$(cat "$T/err")"
check "passwd empty" "1" "$(rcin $'\n' "${U[@]}" passwd alice --users-file "$F")"
check "hash unchanged by refusal" "$NEW" "$(grep '^alice:' "$F" | cut -d: -f2)"
check "passwd --allow-from refused" "2" "$(rcin $'x\n' "${U[@]}" passwd alice --allow-from a@b.com --users-file "$F")"

echo "# del"
check "del bob" "0" "$(rc "${U[@]}" del bob --users-file "$F")"
check "del output" "deleted bob" "$(cat "$T/out")"
check "bob gone" "0" "$(grep -c '^bob:' "$F")"
check "alice stays" "1" "$(grep -c '^alice:' "$F")"
check "del again" "1" "$(rc "${U[@]}" del bob --users-file "$F")"
check "no temporary files left" "users users.lock" "$(cd "$T" && ls users* | tr '\n' ' ' | sed 's/ $//')"

echo "# a broken file is refused, not overwritten"
echo "garbage line" >>"$F"
cp "$F" "$T/before"
check "add to broken file" "1" "$(rcin $'x\n' "${U[@]}" add carol --allow-from c@d.com --users-file "$F")"
check "error names the line" "1" "$(grep -c "$F: line 3: expected name:hash:allow-from:account" "$T/err")"
check "file untouched" "same" "$(cmp -s "$F" "$T/before" && echo same || echo differs)"

echo "# concurrent adds both land (the lock)"
printf '# users\n' >"$T/users2"
for i in 1 2 3 4; do
  printf 'pw%s\n' "$i" | "${U[@]}" add "u$i" --allow-from "u$i@x.org" --users-file "$T/users2" >/dev/null 2>&1 &
done
wait
check "four users" "4" "$(grep -c '^u[1-4]:' "$T/users2")"
finish
