/** Errors the service throws that the transports map to their own status (HTTP 404, ...). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotFoundError'
  }
}
