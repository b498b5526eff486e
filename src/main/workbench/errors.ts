/** Errors the service throws that the transports map to their own status (HTTP 404, ...). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotFoundError'
  }
}

/** The request cannot be served as asked (bad input the validator cannot see): HTTP 400. */
export class ClientError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ClientError'
  }
}

/** The request conflicts with the current state (something is in use or running): HTTP 409. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConflictError'
  }
}
