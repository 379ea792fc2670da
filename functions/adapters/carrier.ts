import { createHash } from 'node:crypto';
import { CarrierUnavailable } from '../core/errors.ts';
import type { Address, CarrierWebhook } from '../core/schemas.ts';
import { signPayload } from '../core/signature.ts';
import { sandboxState } from './sandbox-state.ts';

/** The carrier port: book a shipment, get a tracking number; the carrier reports progress to our webhook. */
export interface Carrier {
  readonly name: string;
  createShipment(request: {
    shipmentId: string;
    address: Address;
    parcels: number;
  }): Promise<{ trackingNumber: string }>;
  /**
   * Cancels a booked shipment before the carrier picked it up, by our shipment id (the reference the
   * booking was made under; the tracking number when we have it). `cancelled: false` when the parcel
   * already left (it can no longer be stopped); cancelling twice, or a booking never made, counts as
   * success (and a later booking under that id is not carried).
   */
  cancel(request: { shipmentId: string; trackingNumber?: string }): Promise<{ cancelled: boolean }>;
}

/** The sandbox's tracking number for a shipment id: a retried booking gets the same one. */
export const sandboxTrackingNumber = (shipmentId: string) =>
  `SBX${createHash('sha256').update(shipmentId).digest('hex').slice(0, 12).toUpperCase()}`;

/** What the sandbox carrier knows of its parcels, shared by every function of the process (as a remote carrier would be). */
const parcels = sandboxState('carrier', () => new Map<string, 'BOOKED' | 'PICKED_UP' | 'CANCELLED'>());

export interface SandboxCarrierOptions {
  /** Where the sandbox posts its signed status events; unset = it reports nothing (deliver by hand). */
  webhookUrl?: string;
  webhookSecret?: () => Promise<string>;
  deliveryMs: number;
  now?: () => Date;
}

/** Shipments to this postal code cannot be booked with the sandbox carrier: CarrierUnavailable, every time. */
export const SANDBOX_UNREACHABLE_POSTAL_CODE = '00000';

/**
 * Sandbox carrier: tracking numbers derived from the shipment id (a retried booking gets the
 * same one), and, when a webhook URL is configured, an IN_TRANSIT scan halfway and DELIVERED
 * after `deliveryMs`, posted to the project's own signed carrier webhook as a real carrier would.
 * Bookings to postal code 00000 fail as an unreachable carrier does (CarrierUnavailable), so an
 * order can be held after its payment was authorized and before anything was charged.
 */
export class SandboxCarrier implements Carrier {
  readonly name = 'SANDBOX';
  /** Attempts per status event (about 8 s of retries with backoff), as carriers retry their webhooks. */
  static readonly WEBHOOK_ATTEMPTS = 6;
  constructor(private readonly options: SandboxCarrierOptions) {}

  async createShipment(request: {
    shipmentId: string;
    address: Address;
    parcels: number;
  }): Promise<{ trackingNumber: string }> {
    if (request.address.postalCode === SANDBOX_UNREACHABLE_POSTAL_CODE)
      throw new CarrierUnavailable('Carrier unreachable (sandbox postal code 00000)');
    const trackingNumber = sandboxTrackingNumber(request.shipmentId);
    if (parcels.get(trackingNumber) === 'CANCELLED') return { trackingNumber }; // a retried booking of a cancelled one
    if (!parcels.has(trackingNumber)) parcels.set(trackingNumber, 'BOOKED');
    const { webhookUrl, webhookSecret, deliveryMs } = this.options;
    if (webhookUrl && webhookSecret) {
      this.report(trackingNumber, 'IN_TRANSIT', deliveryMs / 2);
      this.report(trackingNumber, 'DELIVERED', deliveryMs);
    }
    return { trackingNumber };
  }

  async cancel(request: { shipmentId: string; trackingNumber?: string }): Promise<{ cancelled: boolean }> {
    const trackingNumber = request.trackingNumber ?? sandboxTrackingNumber(request.shipmentId);
    const state = parcels.get(trackingNumber);
    if (state === 'PICKED_UP') return { cancelled: false };
    parcels.set(trackingNumber, 'CANCELLED');
    return { cancelled: true };
  }

  /** What the sandbox knows of a parcel (undefined: never booked nor cancelled). */
  parcelState(trackingNumber: string): 'BOOKED' | 'PICKED_UP' | 'CANCELLED' | undefined {
    return parcels.get(trackingNumber);
  }

  private report(trackingNumber: string, status: CarrierWebhook['status'], afterMs: number): void {
    const timer = setTimeout(() => {
      // A cancelled parcel never moves, so it is never reported in transit or delivered.
      if (parcels.get(trackingNumber) === 'CANCELLED') return;
      parcels.set(trackingNumber, 'PICKED_UP');
      void this.post(trackingNumber, status);
    }, afterMs);
    timer.unref();
  }

  /**
   * Posts one status event as carriers do: an answer other than 2xx is retried with backoff (the
   * shipment may not be recorded yet, or the webhook failed transiently), except a refused signature.
   */
  private async post(trackingNumber: string, status: CarrierWebhook['status']): Promise<void> {
    const now = this.options.now?.() ?? new Date();
    const body = JSON.stringify({ trackingNumber, status, occurredAt: now.toISOString() } satisfies CarrierWebhook);
    let outcome = '';
    for (let attempt = 0; attempt < SandboxCarrier.WEBHOOK_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)).unref());
      try {
        const timestamp = Math.floor((this.options.now?.() ?? new Date()).getTime() / 1000);
        const secret = await this.options.webhookSecret?.();
        if (!this.options.webhookUrl || !secret) return;
        const response = await fetch(this.options.webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-timestamp': String(timestamp),
            'x-signature': signPayload(secret, timestamp, body),
          },
          body,
        });
        if (response.ok) return;
        outcome = `answered ${response.status}`;
        if (response.status === 400 || response.status === 401) break;
      } catch (error) {
        outcome = `could not be reached: ${(error as Error).message}`;
      }
    }
    console.warn(`sandbox carrier: webhook ${outcome} for ${trackingNumber} ${status}; giving up`);
  }
}
