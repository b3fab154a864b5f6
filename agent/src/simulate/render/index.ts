/**
 * The simulator's packet renderer: TrafficScript + NetworkConditions + seed → an Ethernet pcapng
 * with a truth comment on every packet, and its dialog-level truth sidecar.
 */
export {
  DEFAULT_START_US,
  renderCapture,
  renderCaptureToSink,
  type RenderFileOptions,
  type RenderOptions,
  type RenderResult,
  type RenderSummary,
} from './render-capture';
export { CONDITION_RANGES, drawNetworkConditions, validateNetworkConditions, type NetworkConditions } from './network-conditions';
export { truthJsonl, truthSidecarPath, type TruthRecord } from '../../truth/truth-sidecar';
export { applicationWireBytes, CLIENT_HELLO_BYTES, TLS_MAX_PLAINTEXT_BYTES, TLS_RECORD_OVERHEAD_BYTES } from './tls-stream';
export { maxUdpPayload } from './udp-connection';
