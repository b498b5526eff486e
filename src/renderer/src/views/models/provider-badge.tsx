/** The execution-provider indicator: GPU name or CPU, with the reason when the GPU is not used. */
import type { ReactNode } from 'react'
import type { ExecutionProviderInfo } from '../../../../shared/api'

export function ProviderBadge({ provider }: { provider: ExecutionProviderInfo }): ReactNode {
  const gpu = provider.provider === 'cuda'
  const label = gpu ? `GPU: ${provider.deviceName ?? `CUDA device ${provider.deviceId ?? 0}`}` : 'CPU'
  return (
    <span className={gpu ? 'badge badge-gpu' : 'badge badge-cpu'} title={provider.fallbackReason ?? provider.summary} data-testid="provider-badge">
      {label}
    </span>
  )
}
