/**
 * A paste of several FASTA records where one protein is shown at a time: says how many were pasted and which is
 * shown ("2 FASTA records pasted; showing the first, P69905"), and offers the others in a small select.
 */
import { pastedRecordsNote, type PastedRecord } from '@shared/sequence-text'

export function PastedRecordChoice({
  records,
  shown,
  onChoose
}: {
  records: PastedRecord[]
  /** The index of the record shown. */
  shown: number
  onChoose: (record: PastedRecord) => void
}) {
  if (records.length < 2 || shown < 0) return null
  return (
    <div style={{ margin: '0 0 8px' }} data-testid="pasted-records">
      <span className="muted">{pastedRecordsNote(records, shown)}.</span>{' '}
      <label>
        Show{' '}
        <select
          value={shown}
          onChange={e => onChoose(records[Number(e.target.value)])}
          data-testid="pasted-record-select"
        >
          {records.map((rec, i) => (
            <option key={i} value={i} data-testid="pasted-record">
              {rec.name}
            </option>
          ))}
        </select>
      </label>
    </div>
  )
}
