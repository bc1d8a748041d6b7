// A real, certified OpenID Provider (panva/oidc-provider) playing the municipality's eID
// broker in intake's tests. Started by tests/eid/provider.py; never used outside tests.
//
// Environment:
//   OP_PORT            port on 127.0.0.1 (the issuer is http://127.0.0.1:<port>)
//   OP_ID_TOKEN_TTL    lifetime of ID tokens in seconds (default 600)
//   OP_JWKS            private JWKS (JSON) the provider signs with (each instance its own)
//   OP_PKJWT_JWKS      public JWKS (JSON) of a second client that authenticates with
//                      private_key_jwt (optional)
//   OP_CLAIMS_IN_USERINFO  "1": the claims asked for by scope are served only from the
//                      userinfo endpoint, not put into the ID token (as some brokers do)
//
// The login and consent pages are this provider's own (served at /interaction/<uid>): the
// account is picked by its user id, and the login records the account's acr, as an eID
// broker does after BankID or Freja eID+.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';
const PNR = 'https://id.oidc.se/claim/personalIdentityNumber';
const PNR_SCOPE = 'https://id.oidc.se/scope/naturalPersonNumber';
const REDIRECT = 'http://127.0.0.1:5000/orosanmalan/e-legitimation/retur';
const MINE = 'http://127.0.0.1:5000/orosanmalan/mina-anmalningar/retur';

// Test people. Personnummer are made up (valid check digits, no real person intended).
const ACCOUNTS = {
  anna: { acr: LOA3, claims: { given_name: 'Anna', family_name: 'Lärare', [PNR]: '198112189876' } },
  bertil: { acr: LOA3, claims: { given_name: 'Bertil', family_name: 'Rektor', [PNR]: '197903022346' } },
  'utan-pnr': { acr: LOA3, claims: { given_name: 'Ulla', family_name: 'Utan' } },
  'utan-acr': { acr: undefined, claims: { given_name: 'Acke', family_name: 'Utan', [PNR]: '196502154567' } },
  // A broken broker: its userinfo answer names another subject than its ID token.
  'byter-sub': { acr: LOA3, userinfoSub: 'someone-else', claims: { given_name: 'Sune', family_name: 'Byte', [PNR]: '197903022346' } },
};
const claimsInUserinfo = process.env.OP_CLAIMS_IN_USERINFO === '1';

const clients = [{
  client_id: 'intake',
  client_secret: 'intake-test-secret-0123456789abcdef',
  redirect_uris: [REDIRECT, MINE],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
}];
if (process.env.OP_PKJWT_JWKS) {
  clients.push({
    client_id: 'intake-pkjwt',
    redirect_uris: [REDIRECT, MINE],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: JSON.parse(process.env.OP_PKJWT_JWKS),
  });
}

const provider = new Provider(issuer, {
  clients,
  ...(process.env.OP_JWKS ? { jwks: JSON.parse(process.env.OP_JWKS) } : {}),
  acrValues: [LOA3],
  scopes: ['openid', 'profile', PNR_SCOPE],
  claims: {
    openid: ['sub'],
    acr: null,
    profile: ['given_name', 'family_name', 'name'],
    [PNR_SCOPE]: [PNR],
  },
  // The claims asked for by scope go into the ID token itself, as Swedish brokers do
  // (unless OP_CLAIMS_IN_USERINFO: then only userinfo has them).
  conformIdTokenClaims: claimsInUserinfo,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  ttl: { IdToken: Number(process.env.OP_ID_TOKEN_TTL || 600), AuthorizationCode: 60 },
  cookies: { keys: ['intake-test-op-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims(use) {
        const sub = use === 'userinfo' && account.userinfoSub ? account.userinfoSub : id;
        return { sub, ...account.claims };
      },
    };
  },
});

// The tests' relying parties listen on random loopback ports: accept the registered path on
// any loopback port (RFC 8252 7.3 allows that for native apps; here it is only a test seam).
const allowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  try {
    const url = new URL(value);
    if (url.hostname === '127.0.0.1' && url.protocol === 'http:') {
      url.port = '5000';
      return allowed.call(this, url.href);
    }
  } catch {
    return false;
  }
  return allowed.call(this, value);
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="sv"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (prompt.name === 'login') {
      res.end(page('Testlegitimering', `<form method="post" action="/interaction/${uid}">
<label for="login">Användar-id</label> <input id="login" name="login" autocomplete="off">
<input type="hidden" name="prompt" value="login">
<button type="submit">Logga in</button></form>
<form method="post" action="/interaction/${uid}"><input type="hidden" name="prompt" value="abort">
<button type="submit">Avbryt</button></form>`));
    } else {
      res.end(page('Godkänn', `<p>${escape(params.client_id)} vill läsa namn och personnummer.</p>
<form method="post" action="/interaction/${uid}"><input type="hidden" name="prompt" value="consent">
<button type="submit">Godkänn</button></form>
<form method="post" action="/interaction/${uid}"><input type="hidden" name="prompt" value="abort">
<button type="submit">Avbryt</button></form>`));
    }
    return;
  }
  const form = await readForm(req);
  let result;
  if (form.get('prompt') === 'abort') {
    result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  } else if (form.get('prompt') === 'login') {
    const account = ACCOUNTS[form.get('login')];
    if (!account) {
      res.statusCode = 400;
      res.end(page('Okänt användar-id', '<p>Okänt användar-id.</p>'));
      return;
    }
    result = { login: { accountId: form.get('login'), acr: account.acr } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
