import { ApiProperty, ApiPropertyOptional } from '../../openapi.js';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** What a customer id is, wherever the API takes one (body or path). */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const CUSTOMER_ID_MESSAGE = 'customerId must be 1-64 chars of [A-Za-z0-9._:-]';

export class PlaceOrderDto {
  @ApiProperty({ example: 'cust-42', pattern: CUSTOMER_ID_PATTERN.source })
  @IsString()
  @Matches(CUSTOMER_ID_PATTERN, { message: CUSTOMER_ID_MESSAGE })
  customerId!: string;

  @ApiProperty({ example: 'SKU-1', maxLength: 64 })
  @IsString()
  @MaxLength(64)
  sku!: string;

  @ApiProperty({ type: 'integer', example: 2, minimum: 1, maximum: 1000 })
  @IsInt()
  @Min(1)
  @Max(1000)
  quantity!: number;

  @ApiProperty({
    type: 'integer',
    example: 1999,
    description: 'Unit price in cents.',
    minimum: 0,
    maximum: 10_000_000,
  })
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  unitPriceCents!: number;
}

export class ListOrdersQuery {
  @ApiPropertyOptional({ description: 'From `nextCursor` of the previous page.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class OrderDto {
  @ApiProperty() id!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty() sku!: string;
  @ApiProperty() quantity!: number;
  @ApiProperty() unitPriceCents!: number;
  @ApiProperty() totalCents!: number;
  @ApiProperty({ enum: ['placed', 'paid', 'payment_declined', 'cancelled'] }) status!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() version!: number;
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderDto] }) items!: OrderDto[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class CancelOrderDto {
  @ApiProperty({ example: 'customer changed their mind', maxLength: 200 })
  @IsString()
  @MaxLength(200)
  reason!: string;
}

export class OrderEventDto {
  @ApiProperty({ description: 'Version within the order stream (1 = first event).' })
  version!: number;
  @ApiProperty({ description: 'Global position in the event store.' }) position!: number;
  @ApiProperty({ example: 'orders.OrderPlaced' }) type!: string;
  @ApiProperty() id!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({ description: 'The event fields (current schema version).' })
  payload!: Record<string, unknown>;
}
