/** The typed contract's run-time validation: every method has a validator, bad requests are refused with a message naming the field. */
import { describe, expect, it } from 'vitest'
import { API_METHODS, isApiMethod } from '../src/shared/api'
import { requestValidators, validateMethod, validateRequest, ValidationError } from '../src/shared/validate'

function rejects(method: Parameters<typeof validateRequest>[0], request: unknown, field: RegExp): void {
  let error: unknown
  try {
    validateRequest(method, request)
  } catch (e) {
    error = e
  }
  expect(error, `${method} accepted ${JSON.stringify(request)}`).toBeInstanceOf(ValidationError)
  expect((error as ValidationError).message).toMatch(field)
}

describe('API method names', () => {
  it('has one validator per method and nothing else', () => {
    expect(Object.keys(requestValidators).sort()).toEqual([...API_METHODS].sort())
    expect(new Set(API_METHODS).size).toBe(API_METHODS.length)
  })

  it('refuses unknown and prototype names', () => {
    for (const bad of ['nope', '__proto__', 'constructor', 'toString', 'onJobEvent', '', 42, null]) {
      expect(() => validateMethod(bad)).toThrow(ValidationError)
    }
    expect(isApiMethod('hasOwnProperty')).toBe(false)
    expect(validateMethod('listFeatures')).toBe('listFeatures')
  })
})

describe('request validation', () => {
  it('accepts well-formed requests unchanged', () => {
    const q = {
      projectId: 'demo',
      sort: { key: 'max', dir: 'desc' },
      minFreqResidue: 0.001,
      status: 'alive',
      conceptType: 'helix',
      text: 'zinc',
      ids: [1, 2, 3],
      offset: 0,
      limit: 200
    }
    expect(validateRequest('listFeatures', q)).toEqual(q)
    expect(validateRequest('appInfo', {})).toEqual({})
    expect(
      validateRequest('proteinFeatures', {
        projectId: 'demo',
        protein: 'P69905',
        range: { start: 3, end: 40 },
        sortBy: 'mean',
        withTracks: 10
      })
    ).toEqual({
      projectId: 'demo',
      protein: 'P69905',
      range: { start: 3, end: 40 },
      sortBy: 'mean',
      withTracks: 10
    })
    expect(validateRequest('proteinDetail', { projectId: 'demo', protein: 17 })).toEqual({
      projectId: 'demo',
      protein: 17
    })
    expect(
      validateRequest('addModel', {
        kind: 'sae',
        source: 'hub',
        repo: 'Elana/InterPLM-esm2-8m',
        subfolder: 'layer_4',
        layer: 4
      })
    ).toMatchObject({ repo: 'Elana/InterPLM-esm2-8m' })
    expect(
      validateRequest('createProject', {
        name: 'Kinases',
        source: { kind: 'fasta', text: '>a\nMKV\n' },
        modelId: 'demo:esm2',
        saeId: 'demo:sae'
      })
    ).toMatchObject({
      name: 'Kinases'
    })
    expect(
      validateRequest('updateFeatureLabel', { projectId: 'demo', feature: 12, notes: 'fires on\nhelix caps\t(N-term)' })
    ).toMatchObject({ feature: 12 })
  })

  it('refuses bodies that are not plain objects', () => {
    for (const body of [null, undefined, [], 'x', 3, true])
      rejects('listProjects', body, /^request: expected an object/)
    rejects('listProjects', Object.create({ polluted: true }), /expected an object/)
  })

  it('refuses unknown fields, missing fields and wrong types', () => {
    rejects('listProjects', { extra: 1 }, /request\.extra: is not a known field/)
    rejects('featureDetail', { projectId: 'demo' }, /request\.feature: is required/)
    rejects('featureDetail', { projectId: 'demo', feature: '12' }, /request\.feature: expected a whole number/)
    rejects('featureDetail', { projectId: 'demo', feature: 1.5 }, /request\.feature: expected a whole number/)
    rejects('featureDetail', { projectId: 'demo', feature: -1 }, /request\.feature: must be between 0/)
    rejects('listFeatures', { projectId: 'demo', limit: 0 }, /request\.limit: must be between 1 and 20000/)
    rejects('listFeatures', { projectId: 'demo', limit: 1e9 }, /request\.limit/)
    rejects(
      'listFeatures',
      { projectId: 'demo', minFreqResidue: Number.NaN },
      /request\.minFreqResidue: expected a finite number/
    )
    rejects('listFeatures', { projectId: 'demo', minF1: 1.5 }, /request\.minF1: must be between 0 and 1/)
    rejects(
      'listFeatures',
      { projectId: 'demo', sort: { key: 'max; DROP TABLE', dir: 'desc' } },
      /request\.sort\.key: must be one of/
    )
    rejects('listFeatures', { projectId: 'demo', conceptType: 'bogus' }, /request\.conceptType/)
    rejects('listFeatures', { projectId: 'demo', ids: [1, 'x'] }, /request\.ids\[1\]/)
    rejects('listFeatures', { projectId: 'demo', ids: new Array(100_001).fill(0) }, /at most 100000/)
    rejects(
      'proteinFeatures',
      { projectId: 'demo', protein: 'P1', range: { start: 10, end: 5 } },
      /request\.range: end \(5\) is before start \(10\)/
    )
    rejects('proteinFeatures', { projectId: 'demo', protein: 'P1', range: null }, /request\.range/)
    rejects(
      'createProject',
      { name: 'x', source: { kind: 'file', path: '/etc/passwd' }, modelId: 'demo:esm2', saeId: 'demo:sae' },
      /request\.source\.kind: must be one of demo, fasta, uniprot/
    )
    rejects(
      'createProject',
      { name: '', source: { kind: 'demo' }, modelId: 'demo:esm2', saeId: 'demo:sae' },
      /request\.name: must not be empty/
    )
    rejects(
      'createProject',
      { name: 'x'.repeat(121), source: { kind: 'demo' }, modelId: 'demo:esm2', saeId: 'demo:sae' },
      /request\.name: is too long/
    )
  })

  it('refuses paths and path-like ids everywhere an id is expected', () => {
    for (const bad of [
      '../etc',
      '/etc/passwd',
      'a/../b',
      'C:\\Windows',
      'demo\\x',
      '',
      'x'.repeat(201),
      'a//b',
      ' demo',
      'de mo',
      'demo\n'
    ]) {
      rejects('openProject', { projectId: bad }, /request\.projectId/)
      rejects('loadStructure', { projectId: 'demo', structureId: bad }, /request\.structureId/)
    }
    // A local model folder is never sent as a path: only the desktop dialog picks it.
    rejects(
      'addModel',
      { kind: 'esm2', source: 'local', path: '/home/me/esm2' },
      /request\.source: must be one of hub, local-dialog/
    )
    rejects(
      'addModel',
      { kind: 'esm2', source: 'local-dialog', path: '/home/me/esm2' },
      /request\.path: is not a known field/
    )
    rejects(
      'addModel',
      { kind: 'sae', source: 'hub', repo: '../../x' },
      /request\.repo: is not a Hugging Face repository id/
    )
    rejects('addModel', { kind: 'sae', source: 'hub', repo: 'a/b', subfolder: '../layer_4' }, /request\.subfolder/)
  })

  it('refuses control characters in one-line text and oversized text', () => {
    rejects(
      'updateFeatureLabel',
      { projectId: 'demo', feature: 1, label: 'helix\u0000' },
      /request\.label: must not contain control characters/
    )
    rejects(
      'updateFeatureLabel',
      { projectId: 'demo', feature: 1, label: 'two\nlines' },
      /request\.label: must not contain control characters/
    )
    rejects(
      'updateFeatureLabel',
      { projectId: 'demo', feature: 1, notes: 'bell\u0007' },
      /request\.notes: must not contain control characters/
    )
    rejects(
      'updateFeatureLabel',
      { projectId: 'demo', feature: 1, notes: 'n'.repeat(20_001) },
      /request\.notes: is too long/
    )
    rejects('liveFeatures', { projectId: 'demo', sequence: '' }, /request\.sequence: must not be empty/)
    rejects('conceptReport', { projectId: 'demo', text: '' }, /request\.text: must not be empty/)
    rejects('conceptReport', { projectId: 'demo', text: '>a\nMKV', floor: 2 }, /request\.floor/)
    rejects('listFeatures', { projectId: 'demo', minF1Domain: -0.1 }, /request\.minF1Domain/)
  })
})
