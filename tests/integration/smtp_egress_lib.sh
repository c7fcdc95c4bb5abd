# Helpers for the SMTP egress tests (sourced after lib.sh and start_sandbox).

# smtp_accounts FILE: writes an exchange_smtp account "exch" (the sandbox's
# Entra app, its Exchange host) and an hve account "hve" (its HVE host, the
# sandbox's HVE user; accepted domain contoso.com) into FILE, and sets
# SMTP_ENV to the secrets the gateway needs for them.
smtp_accounts() {
  cat >"$1" <<INI
[account.exch]
type = exchange_smtp
tenant_id = $SENDGATE_GRAPH_TENANT_ID
client_id = $SENDGATE_GRAPH_CLIENT_ID
login_url = $SENDGATE_LOGIN_URL
smtp_host = $SENDGATE_SANDBOX_SMTP_EXCHANGE

[account.hve]
type = hve
username = hve@contoso.com
smtp_host = $SENDGATE_SANDBOX_SMTP_HVE
accepted_domains = contoso.com
INI
  SMTP_ENV=(SENDGATE_ACCOUNT_EXCH_CLIENT_SECRET="$SENDGATE_GRAPH_CLIENT_SECRET"
    SENDGATE_ACCOUNT_HVE_PASSWORD=sandbox-hve-password)
}
