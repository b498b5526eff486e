/**
 * The execution-provider indicator: the CUDA GPU's name, the WebGPU adapter (name, vendor, the API Dawn runs
 * over; "software" when it is not a GPU), or CPU; the tooltip says why (the provider choice's reason and,
 * when a GPU is not used, what is missing).
 */
import type { ReactNode } from 'react'
import type { ExecutionProviderInfo } from '@shared/api'

export function providerLabel(provider: ExecutionProviderInfo): string {
  if (provider.provider === 'cuda')
    return `GPU: ${provider.deviceName ?? `CUDA device ${provider.deviceId ?? 0}`} (CUDA)`
  if (provider.provider === 'webgpu') {
    const a = provider.adapter
    return a ? `${a.software ? 'WebGPU (software)' : 'GPU'}: ${a.name} (${a.vendor}, ${a.backend})` : 'GPU: WebGPU'
  }
  return 'CPU'
}

export function ProviderBadge({ provider }: { provider: ExecutionProviderInfo }): ReactNode {
  const gpu = provider.provider !== 'cpu' && !provider.adapter?.software
  const title = [provider.summary, provider.reason && `why: ${provider.reason}`, provider.fallbackReason]
    .filter(Boolean)
    .join('\n')
  return (
    <span
      className={gpu ? 'badge badge-gpu' : 'badge badge-cpu'}
      title={title}
      data-testid="provider-badge"
      data-provider={provider.provider}
    >
      {providerLabel(provider)}
    </span>
  )
}
