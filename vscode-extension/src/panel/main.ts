/** Entry point of the panel, in the VS Code webview and on the page the agent serves alike. */
import { PanelModel } from './panel-model';
import { PanelView } from './panel-view';
import { createTransport } from './transport';

const model = new PanelModel();
const transport = createTransport();
document.documentElement.dataset['host'] = transport.kind;
const view = new PanelView(document.getElementById('app') ?? document.body, model, transport);
transport.start({
  onMessage: (message) => view.dispatch({ type: 'server', message }),
  onStatus: (status) => view.dispatch({ type: 'connection', status }),
});
view.render();
// A page (or webview) unloaded for good takes its timers along; one kept in the back-forward
// cache is frozen with them and resumes as it was, so only the first is disposed of.
window.addEventListener('pagehide', (event) => {
  if (!event.persisted) view.dispose();
});
