import { MAX_ALLOWLIST_DOMAINS } from '../config/network-defaults';

/**
 * Suricata rules that alert on every flow a segment's domain allowlist passes: a passed flow
 * raises no alert of its own. They match as Network Firewall's allowlist does, the TLS server
 * name and the HTTP host, a leading dot standing for the domain and its subdomains, and run just
 * before it (an alert rule does not end the evaluation, a pass does).
 */

/**
 * The allowlist alerts' sids: their own range, apart from the IPS rules' (rules/suricata/), so
 * that the firewall alarm can leave out flows that were allowed.
 */
export const ALLOWLIST_ALERT_FIRST_SID = 3_000_001;
export const ALLOWLIST_ALERT_LAST_SID = ALLOWLIST_ALERT_FIRST_SID + 2 * MAX_ALLOWLIST_DOMAINS - 1;

export function allowlistAlertRules(domains: readonly string[]): string[] {
  return domains.flatMap((domain, i) =>
    (['tls', 'http'] as const).map((protocol, j) => {
      const [buffer, what] = protocol === 'tls' ? ['tls.sni', 'TLS server name'] : ['http.host', 'HTTP host'];
      // Suricata lower-cases the HTTP host itself (and refuses `nocase` there); a server name is compared without case.
      const name = domain.toLowerCase();
      const nocase = protocol === 'tls' ? ' nocase;' : '';
      const match = name.startsWith('.')
        ? `dotprefix; content:"${name}";${nocase} endswith;`
        : `content:"${name}";${nocase} startswith; endswith;`;
      return `alert ${protocol} $HOME_NET any -> any any (msg:"egress allowed: ${what} ${domain}"; flow:to_server; ${buffer}; ${match} sid:${ALLOWLIST_ALERT_FIRST_SID + 2 * i + j}; rev:1;)`;
    }),
  );
}
