// servers.js: downloads that point Exchange, SharePoint and file servers at the connector
// (registry file, PowerShell script, Group Policy script), for the HTTP or HTTPS URL.

import { h, pageHeading, radios, replace, section } from './dom.js';

const ROLES = [
  ['exchange', 'Exchange servers', 'Sets CertificationServerRedirection and LicenseServerRedirection for Exchange 2016/2019, plus the MSDRM and MSIPC service locations. Restart the Exchange services afterwards.'],
  ['sharepoint', 'SharePoint servers', 'Sets the MSIPC service locations and the licensing redirection to the connector.'],
  ['fileserver', 'File servers (FCI)', 'Sets the MSDRM service locations for File Classification Infrastructure. Restart the server afterwards.'],
];

const FORMATS = [
  ['reg', 'Registry file (.reg)', 'reg'],
  ['ps1', 'PowerShell script', 'ps1'],
  ['gpo', 'Group Policy script', 'ps1'],
];

/** The URL of one configuration file. */
export function configUrl(role, format, scheme) {
  const params = new URLSearchParams({ role, format, scheme });
  return `/api/v1/serverconfig?${params}`;
}

/** The #/servers page. */
export function render(ctx, main) {
  const scheme = radios('Connector URL', 'scheme', [
    ['https', 'HTTPS (recommended)', 'Callers must trust the appliance certificate.'],
    ['http', 'HTTP'],
  ], 'https');
  const urlNote = h('p', { class: 'hint', 'aria-live': 'polite' });
  let connectorName = '';
  const cards = h('div', { class: 'grid' });

  function update() {
    const chosen = scheme.value();
    urlNote.textContent = connectorName
      ? `The files point servers at ${chosen}://${connectorName}.`
      : 'Register the appliance first: the files contain the connector name and the tenant URL.';
    replace(cards, ROLES.map(([role, title, text]) => section(title,
      h('p', {}, text),
      h('ul', { class: 'downloads' }, FORMATS.map(([format, label, ext]) => h('li', {},
        h('a', {
          href: configUrl(role, format, chosen),
          download: `rmsconnector-${role}-${chosen}${format === 'gpo' ? '-gpo' : ''}.${ext}`,
          class: 'button',
        }, label)))))));
  }
  scheme.inputs.forEach((i) => i.addEventListener('change', update));
  update();

  replace(main, h('div', { class: 'page' },
    pageHeading('Server configuration'),
    h('p', {}, 'Apply one of these on each server that should use the connector, or deploy the Group Policy script with one policy per server type. Authorize the server first.'),
    scheme.fieldset, urlNote, cards));

  ctx.api.get('/api/v1/status').then((s) => {
    connectorName = (s && s.connector_name) || '';
    update();
  }).catch(() => {});
}
