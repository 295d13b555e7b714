// A real OpenID Connect provider (the certified `oidc-provider` package) on loopback, for the
// single sign-on tests. It listens on 127.0.0.1 on a free port and prints its issuer URL as its
// first line of output.
//
// Its one client is the booking service (the settings come as JSON in argv[2]: client id and
// secret, redirect and post-logout redirect URIs, ID token lifetime). People are added by the
// tests (POST /test/people, JSON {"sub", "claims"}). Signing in is a form with no password
// (POST /interaction/{uid}, field `sub`, or `refuse` to cancel): it grants the scopes the
// client asked for, so no consent page follows.
import http from 'node:http';

import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2]);
const people = new Map();

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function answer(res, status, text) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}

async function addPerson(req, res) {
  const { sub, claims } = JSON.parse(await readForm(req));
  people.set(sub, claims);
  answer(res, 201, 'added');
}

async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<form method="post"><input name="sub"><button>Sign in</button></form>`);
    return;
  }
  const form = new URLSearchParams(await readForm(req));
  if (form.has('refuse')) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person cancelled signing in',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const sub = form.get('sub');
  if (!people.has(sub)) {
    answer(res, 400, 'unknown person');
    return;
  }
  const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: sub },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: [settings.redirect_uri],
      post_logout_redirect_uris: [settings.post_logout_redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // The claims that Microsoft Entra ID and others put in the ID token itself.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', settings.role_claim],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    async findAccount(ctx, sub) {
      if (!people.has(sub)) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...people.get(sub) }) };
    },
    pkce: { required: () => true },
    ttl: { IdToken: settings.id_token_seconds },
    cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, found) => `/interaction/${found.uid}` },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    let handled;
    if (path === '/test/people' && req.method === 'POST') {
      handled = addPerson(req, res);
    } else if (path.startsWith('/interaction/')) {
      handled = interaction(provider, req, res);
    } else {
      handle(req, res);
      return;
    }
    handled.catch((error) => answer(res, 500, String(error)));
  });
  console.log(issuer);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
