import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import { limitsFor, parseJsonBody, PRESENCE_BODY, PUBLISH_BODY, SMALL_BODY } from './json-body.js';

const JSON_TYPE = 'application/json';
const parse = (text: string, contentType: string | undefined = JSON_TYPE, limits = SMALL_BODY) =>
  parseJsonBody(Buffer.from(text, 'utf8'), contentType, limits);

describe(limitsFor.name, () => {
  it('gives a path its own limits, and the paths under it too', () => {
    expect(limitsFor('/v1/notifications')).toBe(PUBLISH_BODY);
    expect(limitsFor('/v1/notifications/scheduled')).toBe(PUBLISH_BODY);
    expect(limitsFor('/v1/presence')).toBe(PRESENCE_BODY);
  });

  it('gives every other path, and no route at all, the small limits', () => {
    expect(limitsFor('/v1/notificationsx')).toBe(SMALL_BODY);
    expect(limitsFor('/v1/me/notifications/mark')).toBe(SMALL_BODY);
    expect(limitsFor(undefined)).toBe(SMALL_BODY);
  });
});

describe(parseJsonBody.name, () => {
  it('parses UTF-8 JSON, with or without a charset parameter in any case', () => {
    expect(parse('{"a":"é"}')).toEqual({ a: 'é' });
    expect(parse('[1]', 'application/json; charset=UTF-8')).toEqual([1]);
    expect(parse('[1]', 'application/json;charset="utf8"')).toEqual([1]);
  });

  it('reads an empty body as an empty object', () => {
    expect(parse('')).toEqual({});
  });

  it('keeps __proto__ as an own field, for validation to name it', () => {
    const body = parse('{"__proto__":{"x":1}}') as object;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.keys(body)).toEqual(['__proto__']);
  });

  it('refuses another charset with 415', () => {
    expect(() => parse('{}', 'application/json; charset=utf-16')).toThrow(
      new UnsupportedMediaTypeException('JSON bodies must be UTF-8'),
    );
  });

  it("refuses a body deeper than its route's bound with 400, before parsing it", () => {
    const deep = '['.repeat(17) + ']'.repeat(17);
    expect(() => parse(deep)).toThrow(
      new BadRequestException('JSON body nests deeper than 16 levels'),
    );
    expect(parse(deep, JSON_TYPE, PUBLISH_BODY)).toHaveLength(1);
  });

  it("refuses invalid JSON with 400 and the parser's message", () => {
    expect(() => parse('{"userIds":')).toThrow(BadRequestException);
    expect(() => parse('{"userIds":')).toThrow('Unexpected end of JSON input');
  });
});
